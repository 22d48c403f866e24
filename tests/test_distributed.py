"""Hyperparameter search on a Dask cluster through joblib's dask backend."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

from skkan import KANClassifier, KANRegressor

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")
# Slow tests run first (see conftest.py); the whole module moves together, so
# its one cluster fixture still serves both tests in one worker.
pytestmark = pytest.mark.slow

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 2))
Y = np.sin(X[:, 0]) + 0.2 * X[:, 1]
# torch thread counts seen inside fit, per call (same process: processes=False).
_SEEN_THREADS = []


class _ThreadRecordingRegressor(KANRegressor):
    def _fit_unguarded(self, X, y, sample_weight):
        _SEEN_THREADS.append(torch.get_num_threads())
        return super()._fit_unguarded(X, y, sample_weight)


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None, silence_logs=40
        )
        dask_client = distributed.Client(cluster)
    yield dask_client
    dask_client.close()
    cluster.close()


def _search(search, backend):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if backend is None:
            return search.fit(X, Y if not isinstance(search.estimator, KANClassifier) else Y > 0)
        with joblib.parallel_config(backend=backend):
            return search.fit(X, Y if not isinstance(search.estimator, KANClassifier) else Y > 0)


def test_grid_search_on_dask_matches_the_serial_search(client):
    estimator = _ThreadRecordingRegressor(hidden_layer_sizes=(2,), max_iter=4, random_state=0)
    grid = {"grid_size": [3, 5], "lamb_smoothness": [0.1]}
    serial = _search(GridSearchCV(estimator, grid, cv=2, n_jobs=1), None)
    _SEEN_THREADS.clear()
    threads_before = torch.get_num_threads()
    torch.set_num_threads(2)  # what the user's process has; workers must not use it
    try:
        on_dask = _search(GridSearchCV(estimator, grid, cv=2, n_jobs=2), "dask")
    finally:
        torch.set_num_threads(threads_before)
    # 2 candidates x 2 folds ran on the workers with one torch thread each;
    # the refit ran in the main thread with the user's setting.
    assert _SEEN_THREADS == [1] * 4 + [2]
    np.testing.assert_array_equal(serial.cv_results_["mean_test_score"], on_dask.cv_results_["mean_test_score"])
    assert serial.best_params_ == on_dask.best_params_
    np.testing.assert_array_equal(serial.predict(X), on_dask.predict(X))


def test_randomized_search_of_a_classifier_on_dask(client):
    estimator = KANClassifier(hidden_layer_sizes=(2,), max_iter=3, random_state=0)
    space = {"grid_size": [3, 4, 5, 6], "spline_order": [2, 3]}
    searches = [
        _search(RandomizedSearchCV(estimator, space, n_iter=3, cv=2, n_jobs=n_jobs, random_state=0), backend)
        for n_jobs, backend in [(1, None), (-1, "dask")]
    ]
    scores = [search.cv_results_["mean_test_score"] for search in searches]
    np.testing.assert_array_equal(scores[0], scores[1])
    assert list(searches[0].cv_results_["params"]) == list(searches[1].cv_results_["params"])
    assert searches[1].best_score_ > 0.5
