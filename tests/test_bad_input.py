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
    ("sparse-dok", KANRegressor, (sp.dok_array(X), Y_REG), TypeError, "Sparse data was passed for X"),
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


# Labels numpy cannot sort used to escape as a bare TypeError from np.unique.
def _labels(*values):
    return np.array([values[i % len(values)] for i in range(30)], dtype=object)


@pytest.mark.parametrize(
    "y, message",
    [
        (_labels("a", "b", None), r"10 missing class label\(s\) \(None, NaN or pandas.NA\), the first at row 2"),
        (_labels("a", "b", np.nan), "Input contains NaN"),  # scikit-learn's own check
        (_labels(1, 2, None), r"missing class label\(s\)"),
        (_labels("a", 1), r"mixes string and numeric class labels \(e.g. 'a' and 1\)"),
        (_labels("a", "b", 2.5), "mixes string and numeric"),
        (_labels("a", ("b",)), "must be sortable values of one type"),
    ],
    ids=["none", "nan-among-strings", "none-among-ints", "str-and-int", "str-and-float", "str-and-tuple"],
)
def test_unsortable_or_missing_labels_give_a_clear_value_error(y, message):
    clf = _small(KANClassifier)
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y)
    assert not hasattr(clf, "n_features_in_")


def test_pandas_na_label_gives_a_clear_value_error():
    pd = pytest.importorskip("pandas")
    y = pd.Series(_labels("a", "b", pd.NA))
    with pytest.raises(ValueError, match="Input contains NaN"):
        _small(KANClassifier).fit(X, y)


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
@pytest.mark.parametrize("cls, y", [(KANRegressor, Y_REG), (KANClassifier, Y_CLF)], ids=["regressor", "classifier"])
def test_absurd_learning_rate_raises_training_diverged_and_keeps_the_model(cls, y, optimizer):
    from skkan import TrainingDivergedError

    est = _small(cls, optimizer=optimizer, early_stopping=False, dtype="float32").fit(X, y)
    before = est.predict(X)
    with pytest.raises(TrainingDivergedError, match="lower learning_rate|Lower learning_rate"):
        est.set_params(learning_rate=1e38).fit(X, y)
    np.testing.assert_array_equal(est.predict(X), before)


def test_auto_symbolic_with_labels_the_classifier_never_saw():
    clf = _small(KANClassifier).fit(X, Y_CLF)
    y_other = np.where(Y_CLF == "pos", "pos", "zero")
    with pytest.raises(ValueError, match=r"labels the classifier was not fitted on: \['zero'\]"):
        clf.auto_symbolic(X=X, y=y_other)
    with pytest.raises(ValueError, match="labels the classifier was not fitted on"):
        clf.auto_symbolic(X=X, y=(Y_CLF == "pos").astype(int))


def test_predict_on_zero_and_one_rows():
    reg = _small(KANRegressor).fit(X, np.column_stack([Y_REG, -Y_REG]))
    assert reg.predict(X[:0]).shape == (0, 2)
    assert reg.predict(X[:1]).shape == (1, 2)
    clf = _small(KANClassifier).fit(X, np.digitize(X[:, 0], [-0.5, 0.5]))
    assert clf.predict(X[:0]).shape == (0,)
    assert clf.predict_proba(X[:0]).shape == (0, 3)
    assert clf.decision_function(X[:0]).shape == (0, 3)
    np.testing.assert_allclose(clf.predict_proba(X[:1]).sum(), 1.0)
    binary = _small(KANClassifier).fit(X, Y_CLF)
    assert binary.predict(X[:0]).dtype == binary.classes_.dtype
    assert binary.predict_proba(X[:0]).shape == (0, 2)
    with pytest.raises(ValueError, match="X has 2 features"):
        reg.predict(np.empty((0, 2)))


def _object_lists():
    array = np.empty((30, 3), dtype=object)
    for index in np.ndindex(array.shape):
        array[index] = [1.0, 2.0]
    return array


@pytest.mark.parametrize(
    "make_X, error, message",
    [
        (_object_lists, ValueError, r"needs numeric input, but column\(s\) 0, 1, 2"),
        (lambda pd: X + 1j, ValueError, "Complex data not supported"),
    ],
    ids=["object-lists", "complex"],
)
def test_more_unusable_inputs(make_X, error, message):
    pd = pytest.importorskip("pandas")
    X_bad = make_X() if make_X is _object_lists else make_X(pd)
    with pytest.raises(error, match=message):
        _small(KANRegressor).fit(X_bad, Y_REG)


@pytest.mark.parametrize(
    "make_X",
    [
        lambda pd: X.astype(np.float16),
        lambda pd: X > 0,
        lambda pd: (X * 10).astype(np.int8),
        lambda pd: X * 1e300,
        lambda pd: X * 1e-300,
        lambda pd: pd.DataFrame({"a": pd.array(np.arange(30), dtype="Int64"), "b": pd.array(X[:, 1], dtype="Float64")}),
    ],
    ids=["float16", "bool", "int8", "huge", "tiny", "pandas-nullable"],
)
def test_unusual_but_numeric_inputs_give_finite_predictions(make_X):
    pd = pytest.importorskip("pandas")
    X_num = make_X(pd)
    reg = _small(KANRegressor).fit(X_num, Y_REG)
    assert np.isfinite(reg.predict(X_num)).all()


def test_y_as_a_dataframe_column():
    pd = pytest.importorskip("pandas")
    reg = _small(KANRegressor).fit(X, pd.DataFrame({"target": Y_REG}))
    assert reg.predict(X).shape == (30, 1)  # a 2-D target gives 2-D predictions
    with pytest.warns(Warning, match="column-vector y was passed"):
        clf = _small(KANClassifier).fit(X, pd.DataFrame({"label": Y_CLF}))
    assert set(clf.predict(X)) <= {"neg", "pos"}


def test_multi_output_labels_are_refused_by_the_classifier():
    with pytest.raises(ValueError, match=r"y should be a 1d array, got an array of shape \(30, 2\)"):
        _small(KANClassifier).fit(X, np.column_stack([Y_CLF, Y_CLF]))


def test_score_of_huge_targets_is_finite():
    # r2_score squares the targets: at 1e300 its sums overflow unless measured in the fitted scale.
    reg = _small(KANRegressor).fit(X, Y_REG * 1e300)
    assert reg.score(X, Y_REG * 1e300) == pytest.approx(_small(KANRegressor).fit(X, Y_REG).score(X, Y_REG))
    with pytest.raises(ValueError, match="dtype='numeric' is not compatible"):
        reg.score(X, np.full(30, "a"))


@pytest.mark.parametrize("X_bad", [{"a": [1.0, 2.0]}, "1,2;3,4", None, object()], ids=["dict", "str", "none", "object"])
def test_x_that_is_not_array_like_is_a_type_error(X_bad):
    with pytest.raises(TypeError, match=r"expects X as an array-like of shape \(n_samples, n_features\)"):
        _small(KANRegressor).fit(X_bad, Y_REG)
    with pytest.raises(TypeError, match="expects X as an array-like"):
        _small(KANClassifier).fit(X, Y_CLF).predict(X_bad)


@pytest.mark.parametrize("dtype", ["Int64", "boolean"])
def test_pandas_missing_values_are_native_missing_values(dtype):
    pd = pytest.importorskip("pandas")
    values = [1, None, 3] * 10 if dtype == "Int64" else [True, None, False] * 10
    X_na = pd.DataFrame({"a": pd.array(values, dtype=dtype), "b": X[:, 1]})
    model = _small(KANRegressor).fit(X_na, Y_REG)
    assert np.all(np.isfinite(model.predict(X_na)))
