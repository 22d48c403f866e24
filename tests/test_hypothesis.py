"""Property-based fuzzing of fit / predict / predict_proba / score.

For any input the only allowed outcomes are a correct result (finite outputs
of the right shape, probabilities summing to one) or a ValueError /
TypeError / TrainingDivergedError raised with a message by skkan or
scikit-learn, never a bare torch, numpy or pandas error. A failed fit leaves
a previously fitted estimator exactly as it was.
"""

import copy
import functools
import os
import traceback
import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
pd = pytest.importorskip("pandas")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from skkan import KANClassifier, KANRegressor, TrainingDivergedError  # noqa: E402

# derandomize: the same examples on every run, so the suite is deterministic;
# max_examples keeps each test well under 15 s on one CPU thread.
FUZZ = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CLEAN_ERRORS = (ValueError, TypeError, TrainingDivergedError)
# Where a raw traceback would come from; a clean error is raised by skkan or scikit-learn.
FOREIGN_PACKAGES = tuple(f"{os.sep}{name}{os.sep}" for name in ("torch", "numpy", "pandas", "scipy"))
TINY = {"hidden_layer_sizes": (2,), "grid_size": 3, "max_iter": 2, "random_state": 0}
KINDS = ["float16", "float32", "float64", "int64", "bool", "object", "Int64", "Float64"]
LIMITS = {"float16": 6e4, "float32": 3e38}


@st.composite
def inputs(draw, min_rows=1, max_rows=8):
    """X of 0-8 rows and 1-3 columns in one of KINDS, with extreme scales and NaN/inf, constant and duplicated data."""
    # Mostly trainable sizes, and the edge cases of 0 (predict only), 1 and 2 rows.
    n_samples = draw(st.sampled_from([n for n in (3, 8, 1, 2, 5, 0) if min_rows <= n <= max_rows]))
    n_features = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(KINDS))
    scale = min(draw(st.sampled_from([1.0, 1e3, 1e12, 1e150, 1e300])), LIMITS.get(kind, np.inf))
    seed = draw(st.integers(0, 2**16))
    values = np.random.default_rng(seed).uniform(-scale, scale, size=(n_samples, n_features))
    if n_samples and draw(st.booleans()):
        values[:, draw(st.integers(0, n_features - 1))] = values[0, 0]  # a constant column
    if n_samples > 2 and draw(st.booleans()):
        values[1:3] = values[0]  # duplicated rows
    # Three examples in eight get a NaN or infinite entry (pandas.NA for the nullable kinds).
    hole = draw(st.sampled_from([None, None, None, None, None, np.nan, np.inf, -np.inf])) if n_samples else None
    hole = None if kind in ("bool", "int64") else hole
    at = (draw(st.integers(0, max(n_samples - 1, 0))), draw(st.integers(0, n_features - 1)))
    event(f"X kind {kind}" + ("" if hole is None else f" with {hole}"))
    if kind == "bool":
        return values > 0
    if kind in ("int64", "Int64"):
        values = np.clip(np.round(values), -(2**62), 2**62)
    if kind in ("Int64", "Float64"):
        frame = pd.DataFrame({f"x{j}": pd.array(values[:, j].tolist(), dtype=kind) for j in range(n_features)})
        if hole is not None:
            frame.iloc[at] = pd.NA
        return frame
    if hole is not None:
        values[at] = hole
    if kind == "object":
        values = values.astype(object)
        if n_samples and draw(st.booleans()):
            values[at] = draw(st.sampled_from(["text", None, [1.0]]))
        return values
    return values.astype(kind)


def regression_targets(draw, n_samples):
    scale = draw(st.sampled_from([1.0, 1e6, 1e100, 1e300]))
    y = np.random.default_rng(draw(st.integers(0, 2**16))).normal(scale=scale, size=n_samples)
    if draw(st.booleans()):
        y[:] = y[0]  # constant target
    return y


def class_labels(draw, n_samples):
    labels = draw(
        st.sampled_from(
            [
                np.array([0, 1, 2]),
                np.array(["a", "b"]),
                np.array([-1.5, 2.0]),
                np.array([True, False]),
                np.array(["a", "b", None], dtype=object),  # a missing label
                np.array(["a", 1], dtype=object),  # mixed types
            ]
        )
    )
    event(f"labels {labels.tolist()}")
    return labels[np.random.default_rng(draw(st.integers(0, 2**16))).integers(labels.size, size=n_samples)]


@functools.cache
def _prefitted(cls):
    """A model fitted once on clean data, copied for every example."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    y = X[:, 0] - X[:, 1] if cls is KANRegressor else (X[:, 0] > 0).astype(int)
    return cls(**TINY).fit(X, y), X


def _assert_clean(error):
    assert isinstance(error, CLEAN_ERRORS), f"{type(error).__name__}: {error}"
    assert str(error).strip(), "an error without a message"
    origin = traceback.extract_tb(error.__traceback__)[-1].filename
    assert not any(package in origin for package in FOREIGN_PACKAGES), f"raw error from {origin}: {error!r}"
    event(f"clean {type(error).__name__}")


def _check_outputs(est, X, n_rows):
    predicted = est.predict(X)
    assert predicted.shape[0] == n_rows
    if isinstance(est, KANClassifier):
        assert set(np.unique(predicted)) <= set(est.classes_)
        proba = est.predict_proba(X)
        assert proba.shape == (n_rows, est.classes_.size)
        assert np.isfinite(proba).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    else:
        assert np.isfinite(predicted).all(), predicted


def _fuzz(est, X, y):
    """Fit on fuzzed data: a clean error leaves the fitted ``est`` unchanged; a fit gives sound outputs."""
    reference_X = _prefitted(type(est))[1]
    before = est.predict(reference_X)
    state = dict(est.__dict__)
    n_rows = X.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            est.fit(X, y)
        except Exception as error:  # The type is what is asserted.
            _assert_clean(error)
            assert est.__dict__.keys() == state.keys()
            assert all(est.__dict__[name] is value for name, value in state.items())
            np.testing.assert_array_equal(est.predict(reference_X), before)
            return
        event("fitted")
        _check_outputs(est, X, n_rows)
        score = est.score(X, y)
        assert np.isfinite(score), score
        # Far outside the training range the prediction stays finite.
        # (Missing values, NaN or pandas' NA, are native inputs and stay missing.)
        dense = X.to_numpy(dtype=np.float64, na_value=np.nan) if hasattr(X, "to_numpy") else np.asarray(X, np.float64)
        far = np.clip(dense * 1e6 + 1e9, -1e300, 1e300)
        _check_outputs(est, far, n_rows)


def _predict_fuzz(est, X):
    """Predict on fuzzed data with a fitted model: sound outputs of the right shape, or a clean error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if X.shape[0] == 0:
            event("zero rows")
            return _check_outputs(est, X, 0)  # an empty batch has an empty answer, never an error
        try:
            _check_outputs(est, X, X.shape[0])
        except Exception as error:
            if isinstance(error, AssertionError):
                raise
            _assert_clean(error)


@FUZZ
@given(data=st.data(), optimizer=st.sampled_from(["lbfgs", "adam"]), learning_rate=st.sampled_from(["auto", 1e38]))
def test_regressor_fit_predict_score(data, optimizer, learning_rate):
    X = data.draw(inputs())
    y = regression_targets(data.draw, X.shape[0])
    est = copy.deepcopy(_prefitted(KANRegressor)[0])
    _fuzz(est.set_params(optimizer=optimizer, learning_rate=learning_rate), X, y)


@FUZZ
@given(data=st.data(), optimizer=st.sampled_from(["lbfgs", "adam"]), learning_rate=st.sampled_from(["auto", 1e38]))
def test_classifier_fit_predict_proba_score(data, optimizer, learning_rate):
    X = data.draw(inputs())
    y = class_labels(data.draw, X.shape[0])
    est = copy.deepcopy(_prefitted(KANClassifier)[0])
    _fuzz(est.set_params(optimizer=optimizer, learning_rate=learning_rate), X, y)


@FUZZ
@given(X=inputs(min_rows=0, max_rows=4), cls=st.sampled_from([KANRegressor, KANClassifier]))
def test_predict_on_any_input(X, cls):
    est = _prefitted(cls)[0]
    if X.shape[1] != est.n_features_in_:
        X = X.iloc[:, [0, 0, 0]] if hasattr(X, "iloc") else X[:, [0, 0, 0]]
        if hasattr(X, "columns"):
            X.columns = ["a", "b", "c"]
    _predict_fuzz(est, X)
