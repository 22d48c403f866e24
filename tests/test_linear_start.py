"""init="linear": a network that starts exactly at a linear model and never validates below it."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge

from skkan import KANClassifier, KANRegressor
from skkan._engine import KANNetwork
from skkan._engine.bspline import bspline_basis, uniform_knots
from skkan._engine.linear_start import greville_abscissae, linear_start_possible, start_at_linear
from skkan._engine.losses import Loss
from skkan._engine.tabular import attach_tabular_edges, record_missing_inputs
from skkan._recipe import resolve_init


@pytest.mark.parametrize("spline_order", [1, 2, 3])
def test_greville_coefficients_reproduce_a_line_on_the_grid(spline_order):
    low = torch.tensor([-2.0, 0.0], dtype=torch.float64)
    knots = uniform_knots(low, torch.tensor([3.0, 0.5], dtype=torch.float64), 6, spline_order)
    x = torch.stack([torch.linspace(-2, 3, 50), torch.linspace(0, 0.5, 50)], dim=1).to(torch.float64)
    values = (bspline_basis(x, knots, spline_order) * greville_abscissae(knots, spline_order)).sum(-1)
    torch.testing.assert_close(values, x, rtol=0, atol=1e-12)


def test_a_network_started_at_a_linear_model_computes_it():
    generator = torch.Generator().manual_seed(0)
    network = KANNetwork([3, 5, 4, 2], 5, 3, generator=generator, dtype=torch.float64)
    attach_tabular_edges(network, [0, 0, 3], generator=generator)
    x = torch.randn(400, 3, generator=generator, dtype=torch.float64)
    x[:, 2] = torch.randint(0, 3, (400,), generator=generator).to(torch.float64)
    x[::9, 0] = float("nan")
    record_missing_inputs(network, x)
    slopes = torch.tensor([[0.5, -1.0], [2.0, 0.3], [0.0, 0.0]], dtype=torch.float64)
    intercept = torch.tensor([0.1, -0.2], dtype=torch.float64)
    missing = torch.tensor([[0.7, 0.4], [0.0, 0.0], [0.0, 0.0]], dtype=torch.float64)
    categories = torch.zeros(3, 2, 4, dtype=torch.float64)
    categories[2, :, :3] = torch.tensor([[1.0, -1.0, 0.5], [0.2, 0.0, -0.3]])
    start_at_linear(network, x, torch.ones(400, dtype=torch.float64), slopes, intercept, missing, categories)

    numeric = torch.nan_to_num(x[:, :2]) @ slopes[:2]
    missing_part = torch.isnan(x[:, :1]).to(x.dtype) @ missing[:1]
    category_part = categories[2].T[x[:, 2].long()]
    expected = intercept + numeric + missing_part + category_part
    torch.testing.assert_close(network(x), expected, rtol=0, atol=1e-8)


def test_linear_start_needs_room_for_the_outputs_and_no_product_nodes():
    assert linear_start_possible(KANNetwork([3, 4, 2], 5, 3))
    assert not linear_start_possible(KANNetwork([3, 2], 5, 3))  # no hidden layer
    assert not linear_start_possible(KANNetwork([3, 2, 4], 5, 3))  # a hidden layer narrower than the outputs
    assert not linear_start_possible(KANNetwork([3, 3, 1], 5, 3, multiplication_nodes=[0, 1, 0]))


@pytest.mark.parametrize(
    ("init", "early_stopping", "possible", "n_validation", "expected"),
    [
        ("auto", True, True, 200, ("random", True)),
        ("auto", True, True, 199, ("linear", False)),
        ("auto", False, True, 0, ("random", False)),
        ("auto", True, False, 50, ("random", False)),
        ("random", True, True, 50, ("random", False)),
        ("linear", False, True, 0, ("linear", False)),
        ("linear", True, True, 500, ("linear", False)),
    ],
)
def test_the_init_rule(init, early_stopping, possible, n_validation, expected):
    resolved = resolve_init(init, early_stopping=early_stopping, linear_possible=possible, n_validation=n_validation)
    assert resolved == expected


def test_an_impossible_linear_start_is_refused_by_name():
    X = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(ValueError, match="init='linear'"):
        KANRegressor(hidden_layer_sizes=(), init="linear", max_iter=1).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="init"):
        KANRegressor(init="zeros").fit(X, X[:, 0])


def _linear_regression_data(n_samples=600, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + rng.normal(scale=1.5, size=n_samples)
    return X, y


def test_a_linear_start_is_ridge_and_never_validates_below_it():
    X, y = _linear_regression_data()
    model = KANRegressor(random_state=0, max_iter=5, init="linear").fit(X, y)
    assert model.init_ == "linear"
    assert model.linear_validation_score_ is not None
    assert model.best_validation_score_ >= model.linear_validation_score_
    # The starting state is ridge on the standardised data: same validation loss as scikit-learn's.
    no_training = KANRegressor(random_state=0, max_iter=1, learning_rate=1e-12, init="linear").fit(X, y)
    rows = np.arange(len(X))
    from sklearn.model_selection import train_test_split

    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    train, validation = train_test_split(rows, test_size=0.1, random_state=seed)
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    ys = (y - y.mean()) / y.std()
    ridge = Ridge(alpha=1.0).fit(Xs[train], ys[train])
    ridge_loss = np.mean((ridge.predict(Xs[validation]) - ys[validation]) ** 2)
    assert -no_training.linear_validation_score_ == pytest.approx(ridge_loss, rel=1e-3)


def test_the_classifier_starts_at_logistic_regression():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(800, 3))
    y = np.where(X[:, 0] - X[:, 1] + rng.normal(scale=0.5, size=800) > 0, "yes", "no")
    model = KANClassifier(random_state=0, max_iter=1, learning_rate=1e-12, init="linear").fit(X, y)
    assert model.init_ == "linear"
    logistic = LogisticRegression().fit((X - X.mean(0)) / X.std(0), y)
    agreement = np.mean(model.predict(X) == logistic.predict((X - X.mean(0)) / X.std(0)))
    assert agreement > 0.98
    multi = KANClassifier(random_state=0, max_iter=3, init="linear").fit(X, np.digitize(X[:, 0], [-0.5, 0.5]))
    assert multi.init_ == "linear" and multi.best_validation_score_ >= multi.linear_validation_score_


def test_init_is_a_parameter_like_the_others_and_fits_are_reproducible():
    X, y = _linear_regression_data(400)
    model = KANRegressor(init="random", random_state=3, max_iter=3)
    assert clone(model).get_params()["init"] == "random"
    first = model.fit(X, y).predict(X)
    assert model.init_ == "random" and model.linear_validation_score_ is None
    np.testing.assert_array_equal(first, clone(model).fit(X, y).predict(X))
    linear = KANRegressor(random_state=3, max_iter=3)
    np.testing.assert_array_equal(linear.fit(X, y).predict(X), clone(linear).fit(X, y).predict(X))


def test_the_default_falls_back_to_the_linear_start_only_below_the_linear_model():
    # 2,500 rows (250 validation rows: a guarded random start). Linear truth and much noise: from random
    # edges the KAN validates below ridge, so the default refits from the linear start; a curved target
    # keeps the random start. Both end at least as good as ridge on validation.
    X, y = _linear_regression_data(2500)
    linear = KANRegressor(random_state=0, max_iter=3, optimizer="adam", ensemble_size=1).fit(X, y)
    random_only = KANRegressor(random_state=0, max_iter=3, optimizer="adam", ensemble_size=1, init="random")
    assert random_only.fit(X, y).best_validation_score_ < linear.linear_validation_score_
    assert linear.init_ == "linear" and linear.best_validation_score_ >= linear.linear_validation_score_

    rng = np.random.default_rng(4)
    X = rng.uniform(-2, 2, size=(2500, 2))
    curved = KANRegressor(random_state=0, max_iter=20, ensemble_size=1).fit(X, np.sin(2 * X[:, 0]) * X[:, 1])
    assert curved.init_ == "random"
    assert curved.best_validation_score_ > curved.linear_validation_score_


def test_a_small_validation_split_starts_at_the_linear_model():
    X, y = _linear_regression_data(600)  # 60 validation rows
    model = KANRegressor(random_state=0, max_iter=2).fit(X, y)
    assert model.init_ == "linear" and model.network_.ensemble_size == model.ensemble_size_ == 4
    assert model.best_validation_score_ >= model.linear_validation_score_


def test_small_data_without_a_validation_split_starts_at_random():
    X, y = _linear_regression_data(100)
    model = KANRegressor(random_state=0, max_iter=2).fit(X, y)
    assert model.init_ == "random"


def test_linear_start_with_missing_values_and_categories():
    rng = np.random.default_rng(2)
    X = np.column_stack([rng.normal(size=700), rng.integers(0, 4, 700).astype(float)])
    X[::11, 0] = np.nan
    y = np.nan_to_num(X[:, 0], nan=3.0) + np.array([0.0, 1.0, -1.0, 2.0])[X[:, 1].astype(int)]
    model = KANRegressor(random_state=0, max_iter=3, categorical_features=[1], init="linear").fit(X, y)
    assert model.init_ == "linear"
    # The target is exactly linear in these terms: the start already explains it.
    assert model.linear_validation_score_ > -0.01
    assert model.score(X, y) > 0.99


def test_a_fit_diverging_in_its_first_epoch_keeps_the_linear_start():
    from sklearn.exceptions import ConvergenceWarning

    X, y = _linear_regression_data(400)
    model = KANRegressor(random_state=0, optimizer="adam", learning_rate=1e30, max_iter=3, init="linear")
    with pytest.warns(ConvergenceWarning, match="diverged"):
        model.fit(X, y)
    assert model.init_ == "linear"
    assert model.best_validation_score_ == model.linear_validation_score_
    assert model.score(X, y) > 0.5  # the ridge start, not a diverged network


def test_loss_advantage_is_the_weighted_mean_gap_and_its_standard_error():
    from skkan._engine.losses import loss_advantage

    generator = torch.Generator().manual_seed(5)
    x = torch.randn(50, 2, generator=generator, dtype=torch.float64)
    target = torch.randn(50, 1, generator=generator, dtype=torch.float64)
    weights = torch.rand(50, generator=generator, dtype=torch.float64) + 0.5

    def better(x):
        return 0.5 * target

    def worse(x):
        return torch.zeros_like(target)

    advantage, error = loss_advantage(better, worse, x, target, weights, Loss("squared_error"))
    gap = (target.square() - (0.5 * target).square())[:, 0].numpy()
    share = (weights / weights.sum()).numpy()
    assert advantage == pytest.approx(share @ gap)
    assert error == pytest.approx(np.sqrt(share**2 @ (gap - share @ gap) ** 2))
    assert advantage > 0 and loss_advantage(worse, better, x, target, weights, Loss("squared_error"))[0] == -advantage
    assert loss_advantage(better, better, x, target, weights, Loss("squared_error")) == (0.0, 0.0)
