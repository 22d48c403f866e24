"""Property-based fuzzing: any numeric input gives finite predictions or a clean error."""

import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

from skkan import (  # noqa: E402
    KANClassifier,
    KANRegressor,
    TrainingDivergedError,
)

# derandomize: the same examples on every run, so the suite is deterministic.
FUZZ = settings(max_examples=20, deadline=None, derandomize=True, print_blob=True)
CLEAN_ERRORS = (ValueError, TypeError, TrainingDivergedError)


@st.composite
def datasets(draw):
    """X of 2-16 rows and 1-4 columns, with extreme scales, constant columns and duplicated rows."""
    n_samples = draw(st.integers(2, 16))
    n_features = draw(st.integers(1, 4))
    dtype = draw(st.sampled_from([np.float64, np.float32, np.int64]))
    bound = draw(st.sampled_from([1.0, 1e3, 1e12]))
    if dtype is np.int64:
        elements = st.integers(-(10**12), 10**12)
    else:
        width = 32 if dtype is np.float32 else 64
        limit = float(np.float32(bound * 0.999)) if width == 32 else bound
        elements = st.floats(-limit, limit, allow_nan=False, allow_infinity=False, width=width)
    X = draw(arrays(dtype, (n_samples, n_features), elements=elements))
    if draw(st.booleans()):
        X[:, draw(st.integers(0, n_features - 1))] = X[0, 0]  # a constant column
    if n_samples > 2 and draw(st.booleans()):
        X[1:3] = X[0]  # duplicated rows
    y = draw(arrays(np.float64, n_samples, elements=st.floats(-bound, bound, allow_nan=False)))
    return X, y


def _check(estimator, X, y, outputs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            estimator.fit(X, y)
        except CLEAN_ERRORS as error:
            event(f"clean error: {type(error).__name__}")
            assert str(error)  # a message, not a bare exception
            assert not hasattr(estimator, "network_")
            return
        event("fitted")
        for method in outputs:
            result = getattr(estimator, method)(X)
            assert result.shape[0] == X.shape[0]
            assert np.isfinite(result).all(), (method, result)
            far = getattr(estimator, method)(np.clip(X.astype(np.float64) * 1e6 + 1e9, -1e300, 1e300))
            assert np.isfinite(far).all()


@FUZZ
@given(data=datasets(), optimizer=st.sampled_from(["lbfgs", "adam"]))
def test_regressor_predictions_are_finite_or_the_error_is_clean(data, optimizer):
    X, y = data
    reg = KANRegressor(hidden_layer_sizes=(2,), grid_size=3, max_iter=2, optimizer=optimizer, random_state=0)
    _check(reg, X, y, ["predict"])


@FUZZ
@given(data=datasets(), n_classes=st.integers(1, 3))
def test_classifier_probabilities_are_finite_or_the_error_is_clean(data, n_classes):
    X, y = data
    labels = np.digitize(y, np.quantile(y, np.linspace(0, 1, n_classes + 1)[1:-1])) if n_classes > 1 else y * 0
    clf = KANClassifier(hidden_layer_sizes=(2,), grid_size=3, max_iter=2, random_state=0)
    if np.unique(labels).size < 2:
        with pytest.raises(ValueError, match="at least 2 classes"):
            clf.fit(X, labels)
        return
    _check(clf, X, labels, ["predict", "predict_proba", "decision_function"])
    if hasattr(clf, "classes_"):
        np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)
