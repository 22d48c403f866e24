"""Bad input gives a clear error naming the problem, and never leaves partial state."""

import re

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from skkan import KANClassifier, KANRegressor

RNG = np.random.default_rng(0)
X = RNG.normal(size=(30, 3))
Y_REG = X[:, 0] - X[:, 1]
Y_CLF = np.where(X[:, 0] > 0, "pos", "neg")


def _small(cls, **params):
    return cls(**{"hidden_layer_sizes": (2,), "max_iter": 2, "random_state": 0, **params})


def _with(array, index, value):
    array = np.array(array, dtype=float)
    array[index] = value
    return array


OBJECT_X = np.column_stack([np.where(X[:, 0] > 0, "red", "blue"), X[:, 1:]]).astype(object)

# (case id, estimator class, fit arguments, exception, message pattern)
FIT_CASES = [
    # NaN in X is a missing value (tests/test_tabular.py); infinity is still refused.
    ("-inf-in-X", KANRegressor, (_with(X, (0, 1), -np.inf), Y_REG), ValueError, "Input X contains infinity"),
    ("inf-in-X", KANRegressor, (_with(X, (3, 0), np.inf), Y_REG), ValueError, "Input X contains infinity"),
    ("nan-in-y", KANRegressor, (X, _with(Y_REG, 2, np.nan)), ValueError, "Input y contains NaN"),
    ("inf-in-y", KANRegressor, (X, _with(Y_REG, 2, -np.inf)), ValueError, "Input y contains infinity"),
    ("nan-label", KANClassifier, (X, _with(Y_REG > 0, 2, np.nan)), ValueError, "Input y contains NaN"),
    ("empty-X", KANRegressor, (np.empty((0, 3)), np.empty(0)), ValueError, r"0 sample\(s\)"),
    ("one-sample", KANRegressor, (X[:1], Y_REG[:1]), ValueError, r"1 sample\(s\).*minimum of 2"),
    ("zero-features", KANRegressor, (np.empty((30, 0)), Y_REG), ValueError, r"0 feature\(s\)"),
    ("1d-X", KANRegressor, (X[:, 0], Y_REG), ValueError, "Expected 2D array"),
    ("y-length", KANRegressor, (X, Y_REG[:10]), ValueError, "inconsistent numbers of samples"),
    ("string-column", KANRegressor, (OBJECT_X, Y_REG), ValueError, r"needs numeric input, but column\(s\) 0 of X"),
    ("string-array", KANClassifier, (np.full((30, 2), "a"), Y_CLF), ValueError, r"column\(s\) 0, 1 of X"),
    ("complex", KANRegressor, (X + 1j, Y_REG), ValueError, "Complex data not supported"),
    ("sparse", KANRegressor, (sp.csr_matrix(X), Y_REG), TypeError, "Sparse data was passed for X, but dense data"),
    ("single-class", KANClassifier, (X, np.zeros(30)), ValueError, "at least 2 classes.*only 1 class: 0.0"),
    ("continuous-labels", KANClassifier, (X, Y_REG), ValueError, "Unknown label type: continuous"),
]


@pytest.mark.parametrize("cls, args, error, message", [case[1:] for case in FIT_CASES], ids=[c[0] for c in FIT_CASES])
def test_fit_rejects_bad_data_with_a_clear_message_and_no_state(cls, args, error, message):
    est = _small(cls)
    params_before = dict(est.__dict__)
    with pytest.raises(error, match=message):
        est.fit(*args)
    # No partial state: not even n_features_in_ survives a failed fit.
    assert est.__dict__ == params_before


def test_dataframe_string_column_is_named():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"size": X[:, 0], "colour": np.where(X[:, 1] > 0, "red", "blue")})
    with pytest.raises(ValueError, match=r"column\(s\) 'colour' of X contain non-numeric"):
        _small(KANRegressor).fit(frame, Y_REG)


def test_object_array_of_numbers_is_accepted():
    reg = _small(KANRegressor).fit(X.astype(object), Y_REG)
    assert np.isfinite(reg.predict(X.astype(object))).all()


SAMPLE_WEIGHT_CASES = [
    ("negative", -np.ones(30), "Negative values in data passed to `sample_weight`"),
    ("nan", _with(np.ones(30), 4, np.nan), "Input sample_weight contains NaN"),
    ("inf", _with(np.ones(30), 4, np.inf), "Input sample_weight contains infinity"),
    ("too-short", np.ones(10), "X has 30 samples but sample_weight has shape \\(10,\\)"),
    ("2d", np.ones((30, 2)), "sample_weight has shape \\(30, 2\\)"),
    ("all-zero", np.zeros(30), "at least one non-zero"),
]


@pytest.mark.parametrize(
    "sample_weight, message", [c[1:] for c in SAMPLE_WEIGHT_CASES], ids=[c[0] for c in SAMPLE_WEIGHT_CASES]
)
def test_bad_sample_weight(sample_weight, message):
    est = _small(KANRegressor)
    with pytest.raises(ValueError, match=message):
        est.fit(X, Y_REG, sample_weight=sample_weight)
    assert not hasattr(est, "n_features_in_")


@pytest.mark.parametrize(
    "params, message",
    [
        ({"learning_rate": float("nan")}, "'learning_rate' parameter"),
        ({"learning_rate": float("inf")}, "'learning_rate' parameter"),
        ({"lamb": float("inf")}, "'lamb' parameter"),
        ({"tol": float("nan")}, "'tol' parameter"),
        ({"grid_eps": float("nan")}, "'grid_eps' parameter"),
        ({"validation_fraction": float("nan")}, "'validation_fraction' parameter"),
        ({"max_iter": 0}, "'max_iter' parameter"),
        ({"hidden_layer_sizes": (float("nan"),)}, "hidden_layer_sizes must be positive integers"),
        ({"grid_extension": (float("inf"),)}, "grid_extension must be increasing integer grid sizes"),
    ],
)
def test_non_finite_or_out_of_range_hyperparameters(params, message):
    with pytest.raises(ValueError, match=message):
        _small(KANRegressor, **params).fit(X, Y_REG)


@pytest.mark.parametrize(
    "device, message",
    [
        ("tpu", "Unknown device 'tpu'"),
        ("cuda:99", "device='cuda:99' was requested"),
        ("mps", "device='mps' was requested"),
    ],
)
def test_unavailable_or_unknown_device(device, message):
    est = _small(KANRegressor, device=device)
    if device == "mps" and torch.backends.mps.is_available():
        pytest.skip("MPS is available here")
    with pytest.raises(ValueError, match=re.escape(message)):
        est.fit(X, Y_REG)


def test_predict_checks_feature_count_names_and_values():
    reg = _small(KANRegressor).fit(X, Y_REG)
    with pytest.raises(ValueError, match="X has 2 features, but KANRegressor is expecting 3"):
        reg.predict(X[:, :2])
    with pytest.raises(ValueError, match="Input X contains infinity"):
        reg.predict(_with(X, (0, 0), np.inf))
    with pytest.raises(TypeError, match="Sparse data"):
        reg.predict(sp.csr_matrix(X))
    with pytest.raises(ValueError, match="needs numeric input"):
        reg.predict(OBJECT_X)


def test_predict_checks_feature_names():
    pd = pytest.importorskip("pandas")
    reg = _small(KANRegressor).fit(pd.DataFrame(X, columns=["a", "b", "c"]), Y_REG)
    with pytest.raises(ValueError, match="feature names should match"):
        reg.predict(pd.DataFrame(X, columns=["a", "b", "d"]))


def test_score_with_labels_unseen_at_fit_counts_them_as_errors():
    clf = _small(KANClassifier).fit(X, Y_CLF)
    predicted = clf.predict(X)
    y_other = Y_CLF.copy()
    y_other[:10] = "never-seen"
    expected = np.mean(predicted == y_other)
    assert clf.score(X, y_other) == pytest.approx(expected)
    assert clf.score(X, y_other) < clf.score(X, Y_CLF)


def test_failed_refit_keeps_the_previous_fitted_state():
    reg = _small(KANRegressor).fit(X, Y_REG)
    before = reg.predict(X)
    state = dict(reg.__dict__)
    with pytest.raises(ValueError, match=r"0 feature\(s\)"):
        reg.fit(np.empty((30, 0)), Y_REG)
    with pytest.raises(ValueError, match="Input y contains NaN"):
        reg.fit(X[:, :2], _with(Y_REG, 0, np.nan))
    assert reg.__dict__.keys() == state.keys()
    assert reg.n_features_in_ == 3
    np.testing.assert_array_equal(reg.predict(X), before)
