"""The training loop: divergence guard, early stopping on the validation loss, Ctrl-C, sample-weight scale, callback."""

import math
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from torch import nn

import skkan._engine.training as training
from skkan import KANClassifier, KANRegressor, TrainingDivergedError
from skkan._engine import KANNetwork, TrainingConfig, train_network
from skkan._engine.grid import _weighted_quantiles
from skkan._engine.losses import Loss, evaluation_loss
from skkan._engine.steps import clip_gradients

RNG = np.random.default_rng(0)


def _smooth(n_samples=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n_samples, 2))
    return X, np.sin(np.pi * X[:, 0]) + X[:, 1] ** 2


def _assert_finite_network(estimator):
    assert all(torch.isfinite(p).all() for p in estimator.network_.parameters())


# ----------------------------------------------------------------------
# Divergence
# ----------------------------------------------------------------------
@pytest.mark.parametrize("learning_rate", [10.0, 1e6, 1e20])
def test_a_too_large_learning_rate_never_returns_a_garbage_model(learning_rate):
    # Before: learning_rate=10 returned train R2 of about -300 with no
    # warning, 1e6 a model far off with a "restored" warning.
    X, y = _smooth()
    reg = KANRegressor(
        hidden_layer_sizes=(3,), learning_rate=learning_rate, max_iter=20, optimizer="adam", random_state=0
    )
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            reg.fit(X, y)
    except TrainingDivergedError as error:
        assert "learning_rate" in str(error)
        assert not hasattr(reg, "network_")
        return
    # A model that is returned is finite and no worse than the mean, or comes with a warning.
    prediction = reg.predict(X)
    assert np.isfinite(prediction).all()
    diverged = any("diverged" in str(w.message) for w in caught)
    assert diverged or reg.score(X, y) > 0


def test_divergence_after_sound_epochs_restores_a_finite_state_that_was_scored(monkeypatch):
    # The last step of epoch 3 blows the parameters up while its running loss
    # still looks sound; the snapshot taken then must not be what is restored.
    X, y = _smooth(120)
    original = training.adam_epoch
    calls = {"n": 0}

    def epoch(network, *args, **kwargs):
        calls["n"] += 1
        loss = original(network, *args, **kwargs)
        if calls["n"] >= 3:
            with torch.no_grad():
                network.layers[0].spline_coef.mul_(1e30 if calls["n"] == 3 else math.nan)
        return loss

    monkeypatch.setattr(training, "adam_epoch", epoch)
    reg = KANRegressor(hidden_layer_sizes=(2,), optimizer="adam", early_stopping=False, max_iter=10, random_state=0)
    with pytest.warns(ConvergenceWarning, match="diverged.*restored"):
        reg.fit(X, y)
    assert reg.n_iter_ == 2
    _assert_finite_network(reg)
    assert np.isfinite(reg.predict(X)).all()


def test_an_exploding_but_finite_loss_counts_as_divergence(monkeypatch):
    X, y = _smooth(120)
    original = training.lbfgs_iteration
    calls = {"n": 0}

    def iteration(network, *args, **kwargs):
        calls["n"] += 1
        loss = original(network, *args, **kwargs)
        return loss * 1e6 if calls["n"] == 4 else loss

    monkeypatch.setattr(training, "lbfgs_iteration", iteration)
    reg = KANRegressor(hidden_layer_sizes=(2,), optimizer="lbfgs", early_stopping=False, max_iter=10, random_state=0)
    with pytest.warns(ConvergenceWarning, match="exploded"):
        reg.fit(X, y)
    assert reg.n_iter_ == 3 and max(reg.loss_curve_) < 10


def test_engine_raises_when_no_sound_epoch_exists():
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(64, 2, generator=generator)
    y = x[:, :1] * 2
    network = KANNetwork([2, 2, 1], grid_size=3, spline_order=3, generator=generator)
    config = TrainingConfig(loss=Loss("squared_error"), optimizer="adam", learning_rate=1e30, max_iter=5, batch_size=16)
    with pytest.raises(TrainingDivergedError, match="learning_rate"):
        train_network(network, x, y, torch.ones(64), config, generator=generator)


# ----------------------------------------------------------------------
# Early stopping
# ----------------------------------------------------------------------
def test_early_stopping_scores_by_validation_loss_where_r2_is_undefined():
    # Every validation target is 0, so R2 there is undefined; scored by R2,
    # early stopping used to keep the first iteration's network (train R2
    # 0.48 after 12 iterations, against 0.99 without early stopping).
    X = RNG.uniform(-1, 1, size=(100, 2))
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    _, validation = train_test_split(np.arange(100), test_size=0.1, random_state=seed)
    X[validation, 0] = -np.abs(X[validation, 0])
    y = 3 * np.maximum(0, X[:, 0])
    assert np.all(y[validation] == 0)
    params = {"hidden_layer_sizes": (2,), "optimizer": "adam", "max_iter": 100, "dtype": "float32", "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = KANRegressor(early_stopping=True, **params).fit(X, y)
    assert reg.score(X, y) > 0.95
    assert reg.n_iter_ > 12


@pytest.mark.parametrize("cls", [KANRegressor, KANClassifier])
def test_validation_scores_are_negative_validation_losses(cls):
    X, y = _smooth(150)
    if cls is KANClassifier:
        y = y > np.median(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = cls(hidden_layer_sizes=(2,), early_stopping=True, max_iter=8, random_state=0).fit(X, y)
    scores = np.asarray(model.validation_scores_)
    assert scores.shape == (model.n_iter_,) and np.all(scores <= 0)
    # A linear start competes too (skkan._engine.linear_start).
    assert model.best_validation_score_ == max(scores.max(), model.linear_validation_score_ or -np.inf)


def test_validation_loss_is_weighted():
    # Zero validation weights on every row but one: the validation loss is that row's loss.
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(40, 1, generator=generator, dtype=torch.float64)
    y = torch.sin(3 * x)
    x_val = torch.tensor([[0.2], [0.9]], dtype=torch.float64)
    y_val = torch.tensor([[0.0], [100.0]], dtype=torch.float64)
    network = KANNetwork([1, 1], grid_size=3, spline_order=3, generator=generator, dtype=torch.float64)
    config = TrainingConfig(loss=Loss("squared_error"), max_iter=2, batch_size=40, early_stopping=True)
    weights = torch.ones(40, dtype=torch.float64)
    validation = (x_val, y_val, torch.tensor([1.0, 0.0], dtype=torch.float64))
    result = train_network(network, x, y, weights, config, generator=generator, validation=validation)
    # With early stopping the network ends in its best state, whose loss is the best score.
    expected = network(x_val[:1]).detach().square().item()
    assert -result.best_validation_score == pytest.approx(expected, rel=1e-9)


# ----------------------------------------------------------------------
# Ctrl-C
# ----------------------------------------------------------------------
def _interrupt_on_epoch(n):
    def callback(info):
        if info["epoch"] == n:
            raise KeyboardInterrupt

    return callback


def test_ctrl_c_in_the_first_epoch_with_early_stopping_reraises_and_keeps_the_estimator(monkeypatch):
    # Before: ValueError "max() arg is an empty sequence".
    X, y = _smooth(150)
    reg = KANRegressor(hidden_layer_sizes=(2,), max_iter=3, early_stopping=True, optimizer="adam", random_state=0).fit(
        X, y
    )
    before = reg.predict(X)
    original = training.adam_epoch

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "adam_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        reg.fit(X[:, :1], y)
    monkeypatch.setattr(training, "adam_epoch", original)
    assert reg.n_features_in_ == 2
    np.testing.assert_array_equal(reg.predict(X), before)


def test_ctrl_c_after_some_epochs_with_early_stopping_keeps_the_best_state(monkeypatch):
    X, y = _smooth(150)
    original = training._report

    def report(config, info, iteration):
        original(config, info, iteration)
        if iteration == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(training, "_report", report)
    reg = KANRegressor(hidden_layer_sizes=(2,), max_iter=50, early_stopping=True, random_state=0)
    with pytest.warns(UserWarning, match="interrupted after 3 iterations"):
        reg.fit(X, y)
    assert len(reg.validation_scores_) == 3
    _assert_finite_network(reg)


def test_engine_reraises_an_interrupt_before_any_epoch_and_keeps_the_best_after():
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(64, 2, generator=generator)
    y = x[:, :1]
    weights = torch.ones(64)
    network = KANNetwork([2, 1], grid_size=3, spline_order=3, generator=generator)
    config = TrainingConfig(loss=Loss("squared_error"), max_iter=10, batch_size=16, callback=_interrupt_on_epoch(1))
    # The callback runs after the epoch is recorded, so epoch 1 is a state to keep.
    result = train_network(network, x, y, weights, config, generator=generator)
    assert result.interrupted and result.n_iter == 1


# ----------------------------------------------------------------------
# Sample weights
# ----------------------------------------------------------------------
@pytest.mark.parametrize("scale", [1e-30, 1e30])
def test_sample_weights_are_scale_invariant(scale):
    X, y = _smooth(120)
    params = {"hidden_layer_sizes": (2,), "max_iter": 5, "optimizer": "adam", "dtype": "float32", "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        unit = KANRegressor(**params).fit(X, y).predict(X)
        scaled = KANRegressor(**params).fit(X, y, sample_weight=np.full(120, scale)).predict(X)
        weights = RNG.uniform(0.5, 2.0, size=120)
        weighted = KANRegressor(**params).fit(X, y, sample_weight=weights).predict(X)
        weighted_scaled = KANRegressor(**params).fit(X, y, sample_weight=weights * scale).predict(X)
    np.testing.assert_array_equal(unit, scaled)
    np.testing.assert_allclose(weighted, weighted_scaled, rtol=1e-4, atol=1e-4)


def test_weighted_quantiles_accumulate_in_float64():
    # In float32, a running sum of 1e8 behind large weights no longer grows
    # by 1, and the mass targets missed the last indices.
    x = torch.arange(5, dtype=torch.float32)[:, None]
    weights = torch.tensor([1e8, 1.0, 1.0, 1.0, 1.0])
    quantiles = _weighted_quantiles(x, weights, torch.tensor([0.0, 1.0]))
    assert quantiles[:, 0].tolist() == [0.0, 4.0]


# ----------------------------------------------------------------------
# Progress callback and snapshots
# ----------------------------------------------------------------------
def test_callback_receives_one_dict_per_epoch_over_the_grid_stages():
    X, y = _smooth(120)
    seen = []
    generator = torch.Generator().manual_seed(0)
    x = torch.as_tensor(X, dtype=torch.float32)
    target = torch.as_tensor(y, dtype=torch.float32)[:, None]
    network = KANNetwork([2, 2, 1], grid_size=3, spline_order=3, generator=generator)
    config = TrainingConfig(
        loss=Loss("squared_error"), max_iter=3, batch_size=64, extra_grid_sizes=(6,), callback=seen.append, tol=0.0
    )
    result = train_network(network, x, target, torch.ones(120), config, generator=generator)
    assert [(i["stage"], i["grid_size"], i["epoch"]) for i in seen] == [
        (0, 3, 1),
        (0, 3, 2),
        (0, 3, 3),
        (1, 6, 1),
        (1, 6, 2),
        (1, 6, 3),
    ]
    assert [i["train_loss"] for i in seen] == result.loss_curve
    assert all(i["validation_loss"] is None and i["max_epochs"] == 3 for i in seen)
    elapsed = [i["elapsed"] for i in seen]
    assert elapsed == sorted(elapsed) and elapsed[0] >= 0


def test_snapshot_restores_across_a_change_of_grid_size():
    generator = torch.Generator().manual_seed(0)
    network = KANNetwork([2, 1], grid_size=3, spline_order=3, generator=generator)
    snapshot = training._Snapshot()
    snapshot.save(network, 1.0)
    before = network(torch.zeros(2, 2)).detach()
    network.update_grids(torch.rand(50, 2, generator=generator), torch.ones(50), grid_size=7)
    assert network.grid_size == 7
    snapshot.restore(network)
    assert network.grid_size == 3
    torch.testing.assert_close(network(torch.zeros(2, 2)).detach(), before)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("fused", [True, False])
def test_gradient_clipping_limits_the_step_with_fused_and_foreach_adam(fused, dtype):
    # A gradient of norm 264.6 clipped to 10: Adam's first moment holds 0.1 * the clipped gradient.
    first = nn.Parameter(torch.zeros(4, dtype=dtype))
    second = nn.Parameter(torch.zeros(3, dtype=dtype))
    optimizer = torch.optim.Adam([first, second], lr=1.0, fused=fused, foreach=not fused)
    first.grad, second.grad = torch.full((4,), 100.0, dtype=dtype), torch.full((3,), 100.0, dtype=dtype)
    clip_gradients(optimizer, [first, second], 10.0)
    optimizer.step()
    clipped = 100.0 * 10.0 / math.sqrt(7 * 100.0**2)
    expected = torch.full((4,), 0.1 * clipped, dtype=dtype)
    torch.testing.assert_close(optimizer.state[first]["exp_avg"], expected, rtol=1e-5, atol=0)


def test_early_stopping_keeps_the_best_validated_state_over_all_grid_stages():
    # Noisy data and a grid far finer than the rows support: the finer stage
    # only overfits, so its best validation loss is worse than the coarse
    # one's. The network must come back in the coarse, better state (before:
    # the finer stage's best, diabetes test R2 -0.34 with grid extension).
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(60, 2, generator=generator, dtype=torch.float64) * 2 - 1
    noise = 0.5 * torch.randn(60, 1, generator=generator, dtype=torch.float64)
    y = x[:, :1] + noise
    train, held_out = slice(0, 40), slice(40, 60)
    seen = []
    network = KANNetwork([2, 1], grid_size=2, spline_order=3, generator=generator, dtype=torch.float64)
    config = TrainingConfig(
        loss=Loss("squared_error"),
        optimizer="lbfgs",
        learning_rate=1.0,
        max_iter=8,
        batch_size=40,
        extra_grid_sizes=(30,),
        early_stopping=True,
        callback=seen.append,
    )
    validation = (x[held_out], y[held_out], torch.ones(20, dtype=torch.float64))
    weights = torch.ones(40, dtype=torch.float64)
    result = train_network(network, x[train], y[train], weights, config, generator=generator, validation=validation)
    best_per_stage = [min(i["validation_loss"] for i in seen if i["stage"] == stage) for stage in (0, 1)]
    assert best_per_stage[0] < best_per_stage[1]
    assert network.grid_size == 2
    final = evaluation_loss(network, *validation, Loss("squared_error")).item()
    assert final == pytest.approx(best_per_stage[0], rel=1e-12)
    assert -result.best_validation_score == pytest.approx(final, rel=1e-12)


# ----------------------------------------------------------------------
# Adam's plateau schedule
# ----------------------------------------------------------------------
def _adam_run(decays, n_iter_no_change=1, plateau_patience=None):
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(64, 1, generator=generator, dtype=torch.float64)
    y = torch.sin(3 * x)
    network = KANNetwork([1, 1], grid_size=3, spline_order=3, generator=generator, dtype=torch.float64)
    seen = []
    # tol=0.5 and a patience of 1: a plateau after every two epochs that do not halve the loss.
    config = TrainingConfig(
        loss=Loss("squared_error"),
        optimizer="adam",
        learning_rate=1e-2,
        max_iter=200,
        batch_size=64,
        tol=0.5,
        n_iter_no_change=n_iter_no_change,
        learning_rate_decays=decays,
        plateau_patience=plateau_patience,
        callback=seen.append,
    )
    result = train_network(network, x, y, torch.ones(64, dtype=torch.float64), config, generator=generator)
    return result, [info["learning_rate"] for info in seen]


def test_adam_divides_the_learning_rate_on_each_plateau_then_stops():
    constant, constant_rates = _adam_run(decays=0)
    scheduled, rates = _adam_run(decays=2)
    assert constant.converged and set(constant_rates) == {1e-2}
    assert scheduled.converged and scheduled.n_iter < 200
    # Same epochs up to the first plateau, then two decays by 5, each held for a plateau's length at least.
    assert rates[: constant.n_iter] == constant_rates
    assert sorted(set(rates), reverse=True) == pytest.approx([1e-2, 2e-3, 4e-4], rel=1e-12)
    assert rates == sorted(rates, reverse=True)
    assert scheduled.n_iter >= constant.n_iter + 2 * 2


def test_plateau_patience_replaces_n_iter_no_change_in_the_schedule():
    # A patience of 1 given as plateau_patience runs exactly as n_iter_no_change=1 does, however long the latter.
    reference, reference_rates = _adam_run(decays=2)
    shortened, rates = _adam_run(decays=2, n_iter_no_change=50, plateau_patience=1)
    assert rates == reference_rates and shortened.n_iter == reference.n_iter
    patient, _ = _adam_run(decays=2, n_iter_no_change=3)
    assert patient.n_iter > shortened.n_iter


def test_a_budget_that_stops_adam_while_it_still_improves_warns():
    X, y = _smooth(120)
    reg = KANRegressor(hidden_layer_sizes=(2,), optimizer="adam", max_iter=3, random_state=0)
    with pytest.warns(ConvergenceWarning, match="maximum iterations \\(3\\)"):
        reg.fit(X, y)
    assert reg.n_iter_ == 3


@pytest.mark.parametrize("centers", [2, 3])
def test_a_classifier_on_separable_classes_stops_before_its_budget(centers):
    # The log loss of separated classes falls towards 0 by a steady fraction
    # an epoch while only the logits grow: a purely relative tol would train
    # to max_iter and warn. It is judged relative to 0.01 nats at least.
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=300, centers=centers, random_state=0, cluster_std=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = KANClassifier(random_state=0).fit(X, y)
    assert clf.n_iter_ < 300
    assert clf.score(X, y) == 1.0
    assert -clf.best_validation_score_ < 1e-2
