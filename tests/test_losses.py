"""KANRegressor's losses: absolute error, Huber, quantile, Poisson and Gamma deviance."""

import pickle

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar
from sklearn import metrics

from skkan import KANRegressor
from skkan._engine import KANNetwork
from skkan._engine.losses import (
    Loss,
    best_constant_output,
    calibrate_quantile_output,
    per_sample_loss,
    weighted_quantile,
)
from skkan.exceptions import UnsafeModelError

LOSSES = ["squared_error", "absolute_error", "huber", "quantile", "poisson", "gamma"]


def _params(loss, **params):
    return {"loss": loss, "quantile": 0.8 if loss == "quantile" else None, **params}


def _count_data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    mean = np.exp(1.0 + 0.8 * X[:, 0] - 0.5 * X[:, 1] ** 2)
    return X, rng.poisson(mean).astype(np.float64), mean


def _tiny_fit(loss, X, y, **params):
    return KANRegressor(hidden_layer_sizes=(3,), max_iter=30, random_state=0, **_params(loss, **params)).fit(X, y)


@pytest.mark.parametrize("loss", LOSSES)
def test_every_loss_fits_a_tiny_problem_better_than_its_best_constant(loss):
    X, y, _ = _count_data()
    y = y + 0.5  # Gamma needs y > 0
    model = _tiny_fit(loss, X, y)
    prediction = model.predict(X)
    assert prediction.shape == y.shape and np.all(np.isfinite(prediction))
    engine_loss = model._fitted_loss()
    targets = torch.as_tensor((y[:, None] - model._target_mean) / model._target_scale)
    weights = torch.ones(y.size, dtype=torch.float64)
    constant = best_constant_output(targets, weights, engine_loss)
    fitted = torch.as_tensor(model._raw_output(X), dtype=torch.float64)
    fitted_loss = per_sample_loss(fitted, targets, engine_loss).mean()
    constant_loss = per_sample_loss(constant.expand_as(targets), targets, engine_loss).mean()
    assert fitted_loss < 0.9 * constant_loss


@pytest.mark.parametrize("loss", ["poisson", "gamma"])
def test_log_link_predicts_positive_means_and_the_formula_shows_exp(loss):
    X, y, _ = _count_data()
    model = _tiny_fit(loss, X, y + (loss == "gamma"), ensemble_size=1)
    assert np.all(model.predict(X) > 0)
    assert model.fitted_view_.target_link == "log"
    assert "exp" in str(model.symbolic_formula(simplify=False)[0])
    # Contributions add up on the log scale.
    contributions = model.predict_contributions(X[:20])
    np.testing.assert_allclose(contributions.sum(axis=1), np.log(model.predict(X[:20])), rtol=1e-9, atol=1e-9)


def test_the_engine_deviances_are_half_of_scikit_learns():
    rng = np.random.default_rng(1)
    y = rng.gamma(2.0, size=50) + 0.01
    mean = rng.gamma(2.0, size=50) + 0.01
    log_mean = torch.as_tensor(np.log(mean))[:, None]
    target = torch.as_tensor(y)[:, None]
    poisson = per_sample_loss(log_mean, target, Loss("poisson")).mean().item()
    gamma = per_sample_loss(log_mean, target, Loss("gamma")).mean().item()
    np.testing.assert_allclose(2 * poisson, metrics.mean_poisson_deviance(y, mean), rtol=1e-12)
    np.testing.assert_allclose(2 * gamma, metrics.mean_gamma_deviance(y, mean), rtol=1e-12)
    pinball = per_sample_loss(log_mean, target, Loss("quantile", quantile=0.3)).mean().item()
    np.testing.assert_allclose(pinball, metrics.mean_pinball_loss(y, np.log(mean), alpha=0.3), rtol=1e-12)
    absolute = per_sample_loss(log_mean, target, Loss("absolute_error")).mean().item()
    np.testing.assert_allclose(absolute, metrics.mean_absolute_error(y, np.log(mean)), rtol=1e-12)
    huber = per_sample_loss(log_mean, target, Loss("huber", delta=(0.7,))).mean().item()
    expected = torch.nn.functional.huber_loss(log_mean, target, delta=0.7).item()
    np.testing.assert_allclose(huber, expected, rtol=1e-12)


@pytest.mark.parametrize("level", [0.1, 0.5, 0.9])
def test_the_weighted_quantile_minimises_the_pinball_loss(level):
    rng = np.random.default_rng(2)
    y = rng.normal(size=(41, 2))
    w = rng.uniform(0.1, 3.0, size=41)
    share = torch.as_tensor(w / w.sum())
    q = weighted_quantile(torch.as_tensor(y), share, level).numpy()
    for column in range(2):

        def pinball(c, column=column):
            return np.sum(w * np.maximum(level * (y[:, column] - c), (level - 1) * (y[:, column] - c)))

        # The minimiser is a data point: none of them does better.
        assert pinball(q[column]) <= min(pinball(c) for c in y[:, column]) + 1e-12


@pytest.mark.parametrize("loss", LOSSES[:-1] + ["gamma"])
def test_the_start_is_the_best_constant_of_the_loss(loss):
    rng = np.random.default_rng(3)
    y = rng.lognormal(size=(60, 1))
    w = rng.uniform(0.2, 2.0, size=60)
    engine_loss = Loss(loss, quantile=0.7 if loss == "quantile" else None, delta=(0.5,) if loss == "huber" else None)
    constant = best_constant_output(torch.as_tensor(y), torch.as_tensor(w), engine_loss).item()
    targets = torch.as_tensor(y)

    def total(c):
        return float(torch.as_tensor(w) @ per_sample_loss(torch.full_like(targets, c), targets, engine_loss))

    best = minimize_scalar(total, bounds=(-5.0, 10.0), method="bounded", options={"xatol": 1e-10})
    assert total(constant) <= best.fun + 1e-7 * abs(best.fun)
    if loss in ("poisson", "gamma"):
        np.testing.assert_allclose(constant, np.log(np.average(y[:, 0], weights=w)), rtol=1e-12)


@pytest.mark.parametrize("loss", ["absolute_error", "quantile", "poisson"])
def test_a_network_starts_at_its_losss_best_constant(loss):
    # One epoch that cannot move the network: its output bias is still the start's.
    X, y, _ = _count_data(n=80)
    model = KANRegressor(
        hidden_layer_sizes=(2,),
        init="random",
        optimizer="adam",
        early_stopping=False,
        ensemble_size=1,
        max_iter=1,
        learning_rate=1e-12,
        random_state=0,
        **_params(loss),
    ).fit(X, y)
    bias = model.network_.layers[-1].bias.detach().double().numpy()
    scaled = (y - model._target_mean) / model._target_scale
    if loss == "poisson":
        expected = np.log(scaled.mean())
    else:
        expected = np.sort(scaled)[int(np.ceil((0.8 if loss == "quantile" else 0.5) * y.size)) - 1]
    np.testing.assert_allclose(bias, [expected], rtol=1e-5, atol=1e-6)


def test_quantile_models_cover_their_level_on_held_out_rows():
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, size=(1200, 1))
    y = np.sin(2 * X[:, 0]) + (0.3 + 0.3 * (X[:, 0] > 0)) * rng.normal(size=1200)
    low = KANRegressor(loss="quantile", quantile=0.1, random_state=0).fit(X[:800], y[:800])
    high = KANRegressor(loss="quantile", quantile=0.9, random_state=0).fit(X[:800], y[:800])
    assert abs(np.mean(y[800:] <= low.predict(X[800:])) - 0.1) < 0.05
    assert abs(np.mean(y[800:] <= high.predict(X[800:])) - 0.9) < 0.05


@pytest.mark.parametrize("level", [0.1, 0.5, 0.9])
def test_quantile_calibration_sets_the_coverage_of_the_rows_it_sees(level):
    generator = torch.Generator().manual_seed(7)
    network = KANNetwork([2, 4, 2], 4, 3, ensemble_size=2, generator=generator, dtype=torch.float64)
    x = torch.randn(500, 2, generator=generator, dtype=torch.float64)
    target = torch.randn(500, 1, generator=generator, dtype=torch.float64) + 3.0
    weights = torch.ones(500, dtype=torch.float64)
    loss = Loss("quantile", quantile=level)
    calibrate_quantile_output(network, x, target, weights, loss)
    with torch.no_grad():
        below = (target <= network(x)).double().mean().item()
    # The smallest shift reaching the level: one row fewer would fall short of it.
    assert level <= below < level + 1 / 500 + 1e-12


def test_an_early_stopped_quantile_fit_is_calibrated_on_enough_validation_rows(monkeypatch):
    import skkan._base

    X, y, _ = _count_data(n=400)
    y = y + np.random.default_rng(0).uniform(size=400)  # continuous: no ties at the quantile
    params = {"early_stopping": True, "validation_fraction": 0.5, "max_iter": 5, "random_state": 0}
    monkeypatch.setattr(skkan._base, "_MIN_CALIBRATION_ROWS", 200)
    calibrated = KANRegressor(loss="quantile", quantile=0.9, **params).fit(X, y)
    monkeypatch.setattr(skkan._base, "_MIN_CALIBRATION_ROWS", 201)
    plain = KANRegressor(loss="quantile", quantile=0.9, **params).fit(X, y)
    # The same fit, shifted so that 90% of the 200 validation rows lie at or below it.
    shift = calibrated.predict(X) - plain.predict(X)
    np.testing.assert_allclose(shift, shift[0], rtol=1e-9)
    assert shift[0] != 0


def test_huber_resists_outliers_that_pull_squared_error():
    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, size=(300, 1))
    clean = 2 * X[:, 0]
    y = clean + 0.1 * rng.normal(size=300)
    y[:15] += 50.0  # 5% gross outliers
    kw = {"hidden_layer_sizes": (2,), "random_state": 0}
    huber = KANRegressor(loss="huber", **kw).fit(X, y)
    squared = KANRegressor(**kw).fit(X, y)
    huber_error = np.median(np.abs(huber.predict(X[15:]) - clean[15:]))
    squared_error = np.median(np.abs(squared.predict(X[15:]) - clean[15:]))
    assert huber_error < 0.5 * squared_error


def test_sample_weights_act_as_repeated_rows_for_the_start():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(40, 2))
    y = rng.poisson(2.0, size=40).astype(float)
    y[0] = 1.0  # a positive sum without row 0's repeats
    repeated = np.r_[np.repeat(y[:1], 5), y[1:]]
    weights = np.r_[5.0, np.ones(39)]
    loss = Loss("absolute_error")
    by_weight = best_constant_output(torch.as_tensor(y)[:, None], torch.as_tensor(weights), loss)
    by_repeat = best_constant_output(torch.as_tensor(repeated)[:, None], torch.ones(44, dtype=torch.float64), loss)
    torch.testing.assert_close(by_weight, by_repeat)
    # A zero weight removes a row: its target does not make the Poisson sum positive.
    zero = np.zeros(40)
    zero[0] = 1.0
    with pytest.raises(ValueError, match="loss='poisson' needs targets y with a positive"):
        KANRegressor(loss="poisson").fit(X, np.where(np.arange(40) == 0, 0.0, 1.0), sample_weight=zero)


def test_log_link_losses_fit_several_outputs():
    X, y, _ = _count_data(n=200)
    Y = np.column_stack([y + 1, 2 * y + 3])
    for loss in ("poisson", "gamma"):
        prediction = _tiny_fit(loss, X, Y).predict(X)
        assert prediction.shape == Y.shape and np.all(prediction > 0)
        np.testing.assert_allclose(prediction.mean(axis=0), Y.mean(axis=0), rtol=0.15)


def test_huber_delta_is_in_target_units():
    X, y, _ = _count_data(n=100)
    model = _tiny_fit("huber", X, 1000 * y, huber_delta=500.0)
    np.testing.assert_allclose(np.array(model._fitted_loss().delta) * model._target_scale, [500.0])
    auto = _tiny_fit("huber", X, y)
    assert auto._fitted_loss().delta == (1.35,)


def test_quantile_loss_needs_a_quantile():
    X, y, _ = _count_data(n=30)
    with pytest.raises(ValueError, match="loss='quantile' needs the quantile"):
        KANRegressor(loss="quantile").fit(X, y)


_BAD_TARGETS = {
    "poisson": st.lists(st.floats(-1e6, -1e-6), min_size=1, max_size=3),
    "gamma": st.lists(st.floats(-1e6, 0.0), min_size=1, max_size=3),
}


@settings(max_examples=15, deadline=None)
@given(st.sampled_from(["poisson", "gamma"]), st.data())
def test_a_target_outside_the_losss_domain_is_refused_and_the_model_kept(loss, data):
    X, y, _ = _count_data(n=30)
    y = y + 1.0
    model = KANRegressor(hidden_layer_sizes=(2,), max_iter=2, random_state=0, loss=loss).fit(X, y)
    before = model.predict(X)
    bad = y.copy()
    values = data.draw(_BAD_TARGETS[loss])
    bad[: len(values)] = values
    with pytest.raises(ValueError, match=f"loss='{loss}' needs"):
        model.fit(X, bad)
    np.testing.assert_array_equal(model.predict(X), before)
    with pytest.raises(ValueError, match=f"loss='{loss}' needs"):
        model.partial_fit(X, bad)
    np.testing.assert_array_equal(model.predict(X), before)


def test_a_loss_change_under_warm_start_is_refused():
    X, y, _ = _count_data(n=60)
    model = _tiny_fit("poisson", X, y).set_params(warm_start=True, loss="squared_error")
    with pytest.raises(ValueError, match="loss"):
        model.fit(X, y)


@pytest.mark.parametrize("loss", ["huber", "quantile", "gamma"])
def test_the_fitted_loss_survives_pickle(loss):
    X, y, _ = _count_data(n=60)
    model = _tiny_fit(loss, X, y + 1)
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded._fitted_loss() == model._fitted_loss()


@pytest.mark.parametrize(
    "tampered",
    [
        {"name": "os.system", "quantile": None, "delta": None},
        {"name": "huber", "quantile": None, "delta": [1.0, 2.0]},
        {"name": "huber", "quantile": None, "delta": [-1.0]},
        {"name": "quantile", "quantile": 1.5, "delta": None},
        {"name": "poisson", "quantile": None, "delta": None, "extra": 1},
        "poisson",
    ],
)
def test_a_tampered_loss_is_refused_on_load(tampered):
    X, y, _ = _count_data(n=60)
    state = _tiny_fit("huber", X, y).__getstate__()
    state["_training_loss"] = tampered
    with pytest.raises(UnsafeModelError, match="Refusing to load"):
        KANRegressor().__setstate__(state)


def test_snapping_a_poisson_model_fine_tunes_on_its_deviance():
    sympy = pytest.importorskip("sympy")
    X, y, _ = _count_data(n=200)
    model = KANRegressor(hidden_layer_sizes=(), ensemble_size=1, max_iter=30, random_state=0, loss="poisson").fit(X, y)
    model.auto_symbolic(0.5, X=X, y=y)
    formula = model.symbolic_formula()[0]
    assert formula.has(sympy.exp)
    np.testing.assert_allclose(model.symbolic_function(precision=12)(X), model.predict(X), rtol=1e-6)
    assert np.all(model.predict(X) > 0)
