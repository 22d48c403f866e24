"""The rule behind the "auto" hyperparameters (skkan._recipe) and what the estimators do with it."""

import numpy as np
import pytest
import torch

from skkan import KANClassifier, KANRegressor
from skkan._recipe import auto_batch_size, auto_hidden_layer_sizes, resolve_recipe


def _params(**overrides):
    params = KANRegressor().get_params()
    params.update(overrides)
    return params


def _recipe(n_samples, device="cpu", **overrides):
    return resolve_recipe(n_samples, 3, 1, "regression", _params(**overrides), device=torch.device(device))


def test_small_data_without_a_judgeable_validation_split_gets_short_lbfgs():
    recipe = _recipe(290)  # a validation split would hold 29 rows: too few to judge
    assert recipe.optimizer == "lbfgs" and not recipe.early_stopping
    assert recipe.extra_grid_sizes == ()
    assert recipe.max_iter == 10
    assert not recipe.warn_at_max_iter
    assert recipe.dtype == torch.float64 and recipe.learning_rate == 1.0


def test_small_data_with_a_validation_split_gets_the_paper_protocol():
    recipe = _recipe(3000, ensemble_size=1)
    assert recipe.optimizer == "lbfgs" and recipe.early_stopping
    assert recipe.extra_grid_sizes == (10, 20)
    assert recipe.max_iter == 50
    assert recipe.warn_at_max_iter


def test_lbfgs_with_the_auto_budget_gets_short_patience_and_shorter_steps_only_when_guarded():
    guarded = _recipe(3000, ensemble_size=1)
    assert guarded.plateau_patience == 5 and guarded.lbfgs_inner_iter == 10
    assert _recipe(3000, ensemble_size=1, n_iter_no_change=1).plateau_patience == 1
    # No validation split: the KAN paper's 20-iteration steps for precise fits of noise-free targets.
    unguarded = _recipe(290)
    assert unguarded.plateau_patience == 5 and unguarded.lbfgs_inner_iter == 20
    # An explicit budget keeps the plain rule: n_iter_no_change steps of 20 iterations.
    explicit = _recipe(3000, ensemble_size=1, max_iter=50)
    assert explicit.plateau_patience is None and explicit.lbfgs_inner_iter == 20
    # Adam does not take L-BFGS steps.
    assert _recipe(100_000).lbfgs_inner_iter == 20


def test_the_recipe_sets_the_lbfgs_step_of_a_fit(monkeypatch):
    import skkan._engine.steps as steps

    sizes = []
    original = steps.LBFGS

    def recording(*args, **kwargs):
        sizes.append(kwargs["max_iter"])
        return original(*args, **kwargs)

    monkeypatch.setattr(steps, "LBFGS", recording)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 2))
    y = X[:, 0] - X[:, 1] + 0.1 * rng.normal(size=400)
    KANRegressor(hidden_layer_sizes=(2,), ensemble_size=1, grid_extension=None, random_state=0).fit(X, y)
    KANRegressor(hidden_layer_sizes=(2,), early_stopping=False, max_iter=2, random_state=0).fit(X, y)
    assert sizes and sizes[0] == 10 and sizes[-1] == 20


def test_grid_extension_stops_where_the_finer_grid_has_more_coefficients_than_rows():
    params = _params(ensemble_size=1)
    device = torch.device("cpu")
    # 10 inputs, 8 hidden nodes, 1 output: 88 edges; grid 10 needs 88 * 13 = 1,144 rows, grid 20 needs 2,024.
    assert resolve_recipe(400, 10, 1, "regression", params, device=device).extra_grid_sizes == ()
    assert resolve_recipe(1600, 10, 1, "regression", params, device=device).extra_grid_sizes == (10,)
    assert resolve_recipe(3000, 10, 1, "regression", params, device=device).extra_grid_sizes == (10, 20)


def test_large_data_gets_adam_with_a_growing_batch_and_a_long_budget():
    recipe = _recipe(40_000)
    assert recipe.optimizer == "adam" and recipe.early_stopping
    assert recipe.extra_grid_sizes == () and recipe.learning_rate == 2e-2
    assert recipe.batch_size == auto_batch_size(36_000) == 36_000**2 // 2**20
    assert recipe.max_iter == 1000


def test_auto_batches_stay_small_on_mid_size_data_and_grow_with_its_square():
    assert auto_batch_size(1000) == auto_batch_size(16_384) == 256
    assert auto_batch_size(32_768) == 1024 and auto_batch_size(65_536) == auto_batch_size(10**7) == 4096
    # Steps an epoch fall as 2**20 / n_train between the bounds.
    assert [n // auto_batch_size(n) for n in (16_384, 32_768, 65_536)] == [64, 32, 16]


def test_the_threshold_between_recipes_counts_training_rows():
    # 11,111 rows leave 9,999 after the validation split: still L-BFGS.
    assert _recipe(11_111).optimizer == "lbfgs"
    assert _recipe(11_200).optimizer == "adam"


def test_explicit_values_win_over_the_rule():
    recipe = _recipe(
        290,
        optimizer="adam",
        early_stopping=True,
        max_iter=7,
        batch_size=32,
        grid_extension=(8,),
        dtype="float32",
        learning_rate=0.3,
    )
    assert (recipe.optimizer, recipe.early_stopping, recipe.max_iter, recipe.batch_size) == ("adam", True, 7, 32)
    assert recipe.extra_grid_sizes == (8,)
    assert recipe.dtype == torch.float32 and recipe.learning_rate == 0.3
    assert recipe.warn_at_max_iter


def test_dtype_auto_is_float32_on_gpus():
    assert _recipe(100, device="cuda").dtype == torch.float32
    assert _recipe(100, device="cpu").dtype == torch.float64


def test_bad_grid_extension_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="increasing integer grid sizes"):
        _recipe(100, grid_extension=(10, 8))


def test_estimators_follow_the_recipe_on_small_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = X[:, 0] - X[:, 1]
    regressor = KANRegressor(hidden_layer_sizes=(2,), random_state=0).fit(X, y)
    assert regressor.optimizer_ == "lbfgs" and not regressor.early_stopping_
    assert next(regressor.network_.parameters()).dtype == torch.float64
    assert regressor.n_iter_ <= 10
    classifier = KANClassifier(hidden_layer_sizes=(2,), random_state=0).fit(X, y > 0)
    assert classifier.optimizer_ == "lbfgs" and classifier.score(X, y > 0) > 0.9


def test_adam_gets_the_plateau_schedule_only_with_the_auto_learning_rate():
    scheduled = _recipe(100_000)
    assert scheduled.learning_rate_decays == 2 and scheduled.plateau_patience == 5  # half of n_iter_no_change=10
    assert _recipe(100_000, n_iter_no_change=1).plateau_patience == 1
    constant = _recipe(100_000, learning_rate=1e-3)
    assert constant.learning_rate_decays == 0 and constant.plateau_patience is None
    assert _recipe(3_000).learning_rate_decays == 0  # L-BFGS: the line search sets the step


def test_small_data_with_more_coefficients_than_rows_gets_adam():
    # 10 inputs, 8 hidden nodes, 1 output: 88 edges of 5 + 3 coefficients, 704 in all.
    params = _params(ensemble_size=1)
    device = torch.device("cpu")
    diabetes_like = resolve_recipe(400, 10, 1, "regression", params, device=device)  # 360 training rows
    assert diabetes_like.optimizer == "adam" and diabetes_like.early_stopping
    assert diabetes_like.extra_grid_sizes == () and diabetes_like.learning_rate_decays == 2
    assert diabetes_like.dtype == torch.float64
    # From 704 training rows on, the paper protocol (782 rows leave 703 after the validation split).
    assert resolve_recipe(782, 10, 1, "regression", params, device=device).optimizer == "adam"
    assert resolve_recipe(783, 10, 1, "regression", params, device=device).optimizer == "lbfgs"
    # Without a validation split to stop Adam, the short L-BFGS budget stays.
    assert resolve_recipe(290, 10, 1, "regression", params, device=device).optimizer == "lbfgs"


def test_auto_width_is_eight_nodes_or_two_per_output():
    assert auto_hidden_layer_sizes(1) == auto_hidden_layer_sizes(4) == (8,)
    assert auto_hidden_layer_sizes(5) == (10,) and auto_hidden_layer_sizes(26) == (52,)
    # The recipe counts the edges of the resolved width: 3 -> 52 -> 26 has 1,508 edges,
    # whose 12,064 coefficients outnumber 5,040 training rows (Adam), where 3 -> 8 -> 26 has 232.
    params = _params(ensemble_size=1)
    recipe = resolve_recipe(5_600, 3, 26, "classification", params, device=torch.device("cpu"))
    assert recipe.optimizer == "adam"
    params = _params(hidden_layer_sizes=(8,), ensemble_size=1)
    fixed = resolve_recipe(5_600, 3, 26, "classification", params, device=torch.device("cpu"))
    assert fixed.optimizer == "lbfgs"


def test_estimators_resolve_the_auto_width_from_their_outputs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    ten_classes = np.arange(120) % 10
    clf = KANClassifier(max_iter=2, random_state=0).fit(X, ten_classes)
    assert clf.get_params()["hidden_layer_sizes"] == "auto"
    assert clf.fitted_view_.widths == [3, 20, 10]
    assert KANClassifier(max_iter=2, random_state=0).fit(X, ten_classes % 2).fitted_view_.widths == [3, 8, 1]
    assert KANRegressor(max_iter=2, random_state=0).fit(X, X[:, 0]).fitted_view_.widths == [3, 8, 1]
    assert KANClassifier(hidden_layer_sizes=(4,), max_iter=2).fit(X, ten_classes).fitted_view_.widths == [3, 4, 10]
    streamed = KANClassifier(random_state=0).partial_fit(X, ten_classes, classes=np.arange(10))
    assert streamed.fitted_view_.widths == [3, 20, 10]
    # warm_start keeps the resolved architecture.
    warm = KANClassifier(max_iter=2, warm_start=True, random_state=0).fit(X, ten_classes)
    assert warm.fit(X, ten_classes).fitted_view_.widths == [3, 20, 10]


def test_auto_ensemble_is_four_networks_on_noisy_tables_and_one_otherwise():
    assert _recipe(3000).ensemble_size == 4  # a validation split: a noisy table
    assert _recipe(200).ensemble_size == 1  # no validation split
    assert _recipe(3000, early_stopping=False).ensemble_size == 1  # noise-free targets
    assert _recipe(3000, lamb=1e-3).ensemble_size == 1  # sparsity training aims at pruning and formulas
    assert _recipe(3000, multiplication_nodes=1).ensemble_size == 1
    assert _recipe(200, ensemble_size=3).ensemble_size == 3


def test_the_recipe_counts_every_members_coefficients():
    # 3 inputs, 8 hidden nodes, 1 output: 32 edges of 8 coefficients, 256 per network. With 300
    # training rows one network gets L-BFGS; four (1,024 coefficients) get Adam.
    assert _recipe(334, ensemble_size=1).optimizer == "lbfgs"
    assert _recipe(334, ensemble_size=4).optimizer == "adam"


def test_a_warm_start_keeps_the_fitted_number_of_networks():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = X[:, 0] + rng.normal(scale=0.1, size=400)
    model = KANRegressor(max_iter=2, random_state=0, early_stopping=False).fit(X, y)
    assert model.network_.ensemble_size == 1
    model.set_params(warm_start=True, early_stopping=True).fit(X, y)  # "auto" would now mean 4
    assert model.network_.ensemble_size == 1


def test_the_device_policy_decides_the_auto_dtype():
    from skkan._engine.device import device_dtype

    assert device_dtype("auto", "cpu") == torch.float64
    assert device_dtype("auto", "cuda:0") == torch.float32  # no CUDA needed to name it
    assert device_dtype("float32", "cpu") == torch.float32 and device_dtype("float64", "cuda") == torch.float64
