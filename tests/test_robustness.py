"""Numerical robustness: extreme scales, divergence, interrupts, thread policy, determinism."""

import threading
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

import skkan._engine.training as training
from skkan import KANClassifier, KANRegressor
from skkan._scaling import _STANDARDIZED_CLIP, _standardize, _weighted_mean_and_scale
from skkan._threads import fit_threads, threads_for_fit

RNG = np.random.default_rng(0)


def test_scaling_statistics_do_not_overflow_near_the_float64_limit():
    values = np.array([[1e307, 1.0], [-1e307, 1.0], [5e306, 1.0]])
    mean, scale = _weighted_mean_and_scale(values, np.ones(3))
    assert np.isfinite(mean).all() and np.isfinite(scale).all()
    assert scale[0] == pytest.approx(np.std(values[:, 0] / 1e307) * 1e307)
    assert scale[1] == 1.0  # constant column
    scaled = _standardize(np.array([[1.7e308, 1e308], [-1.7e308, 1.0]]), mean, scale)
    assert np.isfinite(scaled).all() and np.abs(scaled).max() <= _STANDARDIZED_CLIP


def test_badly_scaled_columns_are_learned_and_predictions_stay_finite():
    # Scaling is relative to each column's magnitude: a column around 1e-20
    # is as informative as one around 1e12.
    X = np.column_stack([RNG.normal(size=120) * 1e12, RNG.normal(size=120) * 1e-20, np.full(120, 5e11)])
    y = 1e9 * (X[:, 0] / 1e12 + X[:, 1] * 1e20)
    reg = KANRegressor(hidden_layer_sizes=(3,), max_iter=10, early_stopping=False, random_state=0).fit(X, y)
    assert reg.score(X, y) > 0.99
    far = np.array([[1e300, -1e300, 0.0], [-1e300, 1e300, 1e300]])
    assert np.isfinite(reg.predict(far)).all()


def test_heavy_tailed_data_gives_finite_predictions():
    X = RNG.standard_cauchy(size=(150, 3))
    y = X[:, 0] + RNG.standard_cauchy(150)
    reg = KANRegressor(hidden_layer_sizes=(3,), max_iter=10, random_state=0).fit(X, y)
    assert np.isfinite(reg.predict(X * 1e6)).all()
    clf = KANClassifier(hidden_layer_sizes=(3,), max_iter=10, random_state=0).fit(X, y > 0)
    proba = clf.predict_proba(X * 1e6)
    assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1.0)


def _fail_after(original, calls, outcome):
    """Wrap a training step so that call number ``calls + 1`` returns NaN or raises."""
    count = {"n": 0}

    def step(*args, **kwargs):
        count["n"] += 1
        if count["n"] > calls:
            if outcome == "nan":
                with torch.no_grad():
                    for param in args[0].parameters():
                        param.fill_(float("nan"))
                return torch.tensor(float("nan"))
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    return step


def test_divergence_restores_the_best_parameters_with_a_warning(monkeypatch):
    X = RNG.normal(size=(60, 2))
    y = np.sin(X[:, 0])
    monkeypatch.setattr(training, "lbfgs_iteration", _fail_after(training.lbfgs_iteration, 3, "nan"))
    reg = KANRegressor(hidden_layer_sizes=(2,), max_iter=10, random_state=0)
    with pytest.warns(ConvergenceWarning, match="diverged.*best parameters seen before were restored"):
        reg.fit(X, y)
    assert reg.n_iter_ == 3
    assert all(torch.isfinite(p).all() for p in reg.network_.parameters())
    assert np.isfinite(reg.predict(X)).all()


def test_keyboard_interrupt_keeps_the_best_state_so_far(monkeypatch):
    X = RNG.normal(size=(60, 2))
    y = np.sin(X[:, 0])
    monkeypatch.setattr(training, "adam_epoch", _fail_after(training.adam_epoch, 4, "interrupt"))
    reg = KANRegressor(hidden_layer_sizes=(2,), optimizer="adam", max_iter=50, random_state=0)
    with pytest.warns(UserWarning, match="interrupted after 4 iterations.*best state"):
        reg.fit(X, y)
    assert reg.n_iter_ == 4 and len(reg.loss_curve_) == 4
    assert np.isfinite(reg.predict(X)).all()
    # It can be trained further from there.
    monkeypatch.undo()
    reg.set_params(warm_start=True, max_iter=3).fit(X, y)
    assert reg.n_iter_ == 7


def test_keyboard_interrupt_outside_training_leaves_previous_fit_intact(monkeypatch):
    X = RNG.normal(size=(40, 2))
    y = X[:, 0]
    reg = KANRegressor(hidden_layer_sizes=(2,), max_iter=3, random_state=0).fit(X, y)
    before = reg.predict(X)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("skkan._base.train_network", interrupt)
    with pytest.raises(KeyboardInterrupt):
        reg.fit(X[:, :1], y)
    assert reg.n_features_in_ == 2
    np.testing.assert_array_equal(reg.predict(X), before)


def test_thread_policy(monkeypatch):
    monkeypatch.delenv("SKKAN_NUM_THREADS", raising=False)
    assert threads_for_fit() is None  # main thread, no worker: torch's own setting
    seen = []
    worker = threading.Thread(target=lambda: seen.append(threads_for_fit()))
    worker.start()
    worker.join()
    assert seen == [1]
    monkeypatch.setenv("SKKAN_NUM_THREADS", "3")
    assert threads_for_fit() == 3
    before = torch.get_num_threads()
    monkeypatch.setenv("SKKAN_NUM_THREADS", "1")
    with fit_threads():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("cls", [KANRegressor, KANClassifier])
def test_same_random_state_gives_identical_predictions(cls):
    X = RNG.normal(size=(60, 3))
    y = X[:, 0] > 0 if cls is KANClassifier else X[:, 0] ** 2
    params = {"hidden_layer_sizes": (3,), "max_iter": 5, "random_state": 7}
    first = cls(**params).fit(X, y)
    second = cls(**params).fit(X, y)
    out = "predict_proba" if cls is KANClassifier else "predict"
    np.testing.assert_array_equal(getattr(first, out)(X), getattr(second, out)(X))
    other = cls(**{**params, "random_state": 8}).fit(X, y)
    assert not np.array_equal(getattr(first, out)(X), getattr(other, out)(X))


def test_grid_search_is_identical_across_n_jobs():
    X = RNG.normal(size=(60, 2))
    y = np.sin(X[:, 0]) + 0.1 * X[:, 1]
    grid = {"grid_size": [3, 5]}
    estimator = KANRegressor(hidden_layer_sizes=(2,), max_iter=4, random_state=0)
    results = []
    for n_jobs, backend in [(1, None), (2, "threading")]:
        search = GridSearchCV(estimator, grid, cv=2, n_jobs=n_jobs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if backend is None:
                search.fit(X, y)
            else:
                from joblib import parallel_config

                with parallel_config(backend=backend):
                    search.fit(X, y)
        results.append((search.cv_results_["mean_test_score"], search.predict(X)))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
