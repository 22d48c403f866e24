"""partial_fit on both estimators, and streaming training with dask-ml's Incremental."""

import warnings

import numpy as np
import pytest

from skkan import KANClassifier, KANRegressor

RNG = np.random.default_rng(0)
X = RNG.normal(size=(300, 2))
Y_REG = np.sin(X[:, 0]) + 0.5 * X[:, 1]
Y_CLF = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
CHUNKS = np.array_split(np.arange(300), 3)


def _small(cls, **params):
    return cls(**{"hidden_layer_sizes": (3,), "batch_size": 32, "random_state": 0, **params})


def test_partial_fit_streams_chunks_and_keeps_the_first_scaling():
    reg = _small(KANRegressor)
    reg.partial_fit(X[CHUNKS[0]], Y_REG[CHUNKS[0]])
    assert reg.n_iter_ == 1 and reg.optimizer_ == "adam" and len(reg.loss_curve_) == 1
    first_mean, first_target = reg.fitted_view_.input_mean, reg.fitted_view_.target_mean
    for _ in range(3):
        for rows in CHUNKS:
            # A shifted chunk does not move the scaling fixed by the first call.
            reg.partial_fit(X[rows] + 0.1, Y_REG[rows])
    np.testing.assert_array_equal(reg.fitted_view_.input_mean, first_mean)
    np.testing.assert_array_equal(reg.fitted_view_.target_mean, first_target)
    assert reg.n_iter_ == 10
    assert np.mean(reg.loss_curve_[-3:]) < 0.5 * np.mean(reg.loss_curve_[:3])
    assert reg.score(X + 0.1, Y_REG) > 0.8


def test_partial_fit_is_reproducible():
    first = _small(KANRegressor).partial_fit(X, Y_REG).partial_fit(X, Y_REG)
    second = _small(KANRegressor).partial_fit(X, Y_REG).partial_fit(X, Y_REG)
    np.testing.assert_array_equal(first.predict(X), second.predict(X))


def test_partial_fit_after_fit_continues_from_the_fitted_network():
    reg = _small(KANRegressor, max_iter=5, early_stopping=False, optimizer="adam").fit(X, Y_REG)
    before = reg.predict(X)
    reg.partial_fit(X, Y_REG)
    assert reg.n_iter_ == 6
    assert 0 < np.abs(reg.predict(X) - before).max() < 1.0


def test_classifier_partial_fit_needs_classes_first_and_refuses_new_ones():
    clf = _small(KANClassifier)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, Y_CLF)
    assert not hasattr(clf, "classes_")
    # A first chunk may lack a class that the stream has.
    clf.partial_fit(X[:5][Y_CLF[:5] == "no"], Y_CLF[:5][Y_CLF[:5] == "no"], classes=["yes", "no"])
    assert clf.classes_.tolist() == ["no", "yes"]
    for _ in range(8):
        clf.partial_fit(X, Y_CLF)
    assert clf.score(X, Y_CLF) > 0.9
    with pytest.raises(ValueError, match=r"labels not in classes: \['maybe'\].*cannot add classes"):
        clf.partial_fit(X[:3], ["yes", "maybe", "no"])
    with pytest.raises(ValueError, match="not the same as on the first call"):
        clf.partial_fit(X[:3], Y_CLF[:3], classes=["no", "yes", "maybe"])
    with pytest.raises(ValueError, match="X has 1 features, but KANClassifier is expecting 2"):
        clf.partial_fit(X[:3, :1], Y_CLF[:3])


def test_partial_fit_class_weight():
    weighted = _small(KANClassifier, class_weight={"yes": 3.0, "no": 1.0})
    weighted.partial_fit(X, Y_CLF, classes=["no", "yes"])
    by_hand = _small(KANClassifier).partial_fit(
        X, Y_CLF, sample_weight=np.where(Y_CLF == "yes", 3.0, 1.0), classes=["no", "yes"]
    )
    np.testing.assert_allclose(weighted.predict_proba(X), by_hand.predict_proba(X))
    with pytest.raises(ValueError, match="'balanced' is not supported by partial_fit"):
        _small(KANClassifier, class_weight="balanced").partial_fit(X, Y_CLF, classes=["no", "yes"])


def test_partial_fit_learns_missing_values_from_later_chunks():
    x = X.copy()
    x[::4, 1] = np.nan
    reg = _small(KANRegressor).partial_fit(X, Y_REG)
    assert not reg.fitted_view_.missing_learned.any()
    reg.partial_fit(x, Y_REG)
    assert reg.fitted_view_.missing_learned.tolist() == [False, True]
    assert np.all(np.isfinite(reg.predict(x)))


# ----------------------------------------------------------------------
# dask-ml: Incremental over a chunked dask array on a LocalCluster
# ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        cluster = distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None, silence_logs=40
        )
        client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_ml_incremental_trains_over_a_chunked_array(dask_client):
    da = pytest.importorskip("dask.array")
    wrappers = pytest.importorskip("dask_ml.wrappers")
    labels = (Y_CLF == "yes").astype(int)
    X_dask = da.from_array(X, chunks=(100, 2))
    y_dask = da.from_array(labels, chunks=100)
    incremental = wrappers.Incremental(_small(KANClassifier), scoring="accuracy")
    incremental.fit(X_dask, y_dask, classes=[0, 1])
    model = incremental.estimator_
    # One partial_fit call (one epoch) per block of the array.
    assert isinstance(model, KANClassifier) and model.n_iter_ == 3
    assert incremental.score(X_dask, y_dask) > 0.8
    np.testing.assert_array_equal(incremental.predict(X_dask).compute(), model.predict(X))
