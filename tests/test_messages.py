"""What a user reads: fit warnings point at the user's own line, target errors say what to do."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skkan import KANClassifier, KANRegressor


def _data(n=30):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(n, 2))
    return X, X[:, 0] + X[:, 1] ** 2


@pytest.mark.parametrize("Estimator", [KANRegressor, KANClassifier])
def test_convergence_warning_points_at_the_callers_line(Estimator):
    X, y = _data()
    y = y if Estimator is KANRegressor else y > 0.3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Estimator(hidden_layer_sizes=(2,), max_iter=1, early_stopping=False, random_state=0).fit(X, y)
    convergence = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(convergence) == 1
    assert convergence[0].filename == __file__


def test_convergence_warning_inside_a_pipeline_points_at_scikit_learn_not_skkan():
    X, y = _data()
    pipe = make_pipeline(FunctionTransformer(), KANRegressor(hidden_layer_sizes=(2,), max_iter=1, random_state=0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipe.fit(X, y)
    (warning,) = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert "skkan" not in warning.filename.replace("\\", "/").split("/")


@pytest.mark.parametrize(
    "y",
    [["b", "a"] * 15, np.array(["b", "a"] * 15, dtype=object), [1.0, "b"] * 15],
    ids=["str-list", "object-array", "mixed"],
)
def test_regressor_given_string_targets_suggests_the_classifier(y):
    X, _ = _data()
    with pytest.raises(ValueError, match="KANRegressor needs numeric targets") as error:
        KANRegressor(max_iter=1).fit(X, y)
    message = str(error.value)
    assert "KANClassifier" in message and "'b'" in message and "np.str_" not in message


def test_regressor_still_accepts_numbers_stored_as_objects_or_strings():
    X, y = _data()
    reg = KANRegressor(hidden_layer_sizes=(2,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y.astype(object))
        assert reg.predict(X).dtype == np.float64
        reg.fit(X, y.astype(str))
    assert np.isfinite(reg.predict(X)).all()
