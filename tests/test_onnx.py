"""ONNX export: onnxruntime reproduces predict and predict_proba (skkan.to_onnx, skl2onnx pipelines)."""

import warnings

import numpy as np
import pytest

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")

from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

from skkan import KANClassifier, KANRegressor, register_skl2onnx, to_onnx  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.normal(size=(120, 3))
Y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
# Rows beyond the training range, at its edges, and inside it.
X_TEST = np.vstack([RNG.normal(size=(60, 3)) * 2.0, X.min(axis=0), X.max(axis=0), [[50.0, -50.0, 0.0]]])
FAST = {"hidden_layer_sizes": (3,), "max_iter": 8, "random_state": 0, "grid_size": 4}


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _run(model, X, dtype=np.float64, **options):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, {session.get_inputs()[0].name: np.asarray(X, dtype=dtype)})))


def _check_regressor(model, X, rtol=1e-10):
    expected = model.predict(X).reshape(len(X), -1)
    got = _run(to_onnx(model, X[:2], dtype=np.float64), X)["variable"]
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * np.abs(expected).max())


def _check_classifier(model, X, rtol=1e-10):
    outputs = _run(to_onnx(model, X[:2], dtype=np.float64), X)
    np.testing.assert_array_equal(outputs["label"], model.predict(X))
    np.testing.assert_allclose(outputs["probabilities"], model.predict_proba(X), rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("multi_output", [False, True])
def test_regressor_matches_predict(multi_output):
    y = np.column_stack([Y, X[:, 0] - X[:, 2]]) if multi_output else Y
    model = KANRegressor(**FAST, dtype="float64").fit(X, y)
    _check_regressor(model, X_TEST)


def test_float32_export_of_a_float32_network_is_within_1e_5():
    model = KANRegressor(**FAST, dtype="float32").fit(X, Y)
    X32 = X_TEST.astype(np.float32)
    got = _run(to_onnx(model, X[:2]), X32, np.float32)["variable"][:, 0]
    assert got.dtype == np.float32
    expected = model.predict(X32)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("labels", ["binary", "multiclass", "strings"])
def test_classifier_labels_and_probabilities_match(labels):
    y = {
        "binary": (Y > 0).astype(int),
        "multiclass": np.digitize(Y, [-0.5, 0.5]),
        "strings": np.array(["low", "mid", "high"])[np.digitize(Y, [-0.5, 0.5])],
    }[labels]
    model = KANClassifier(**FAST, dtype="float64").fit(X, y)
    _check_classifier(model, X_TEST)


def test_pipeline_with_a_column_transformer_exports_through_skl2onnx():
    register_skl2onnx()
    data = np.column_stack([X, RNG.integers(0, 3, len(X))])
    prep = ColumnTransformer([("num", StandardScaler(), [0, 1, 2]), ("cat", OneHotEncoder(), [3])])
    pipeline = make_pipeline(prep, KANClassifier(**FAST, dtype="float64")).fit(data, (Y > 0.3).astype(int))
    model = skl2onnx.to_onnx(pipeline, data[:1], options={KANClassifier: {"zipmap": False}})
    outputs = _run(model, data)
    np.testing.assert_array_equal(outputs["label"], pipeline.predict(data))
    np.testing.assert_allclose(outputs["probabilities"], pipeline.predict_proba(data), rtol=1e-10, atol=1e-12)


def test_multiplication_nodes_and_ensembles():
    _check_regressor(
        KANRegressor(**{**FAST, "hidden_layer_sizes": (2,)}, multiplication_nodes=1, dtype="float64").fit(X, Y), X_TEST
    )
    model = KANClassifier(**FAST, ensemble_size=3, dtype="float64").fit(X, Y > 0)
    assert model.ensemble_size_ == 3
    _check_classifier(model, X_TEST)


def test_missing_values_and_categories_with_unknown_ones():
    data = np.column_stack([X, RNG.integers(0, 4, len(X)).astype(float)])
    data[::5, 0] = np.nan
    data[::7, 3] = np.nan
    model = KANRegressor(**FAST, categorical_features=[3], dtype="float64").fit(data, Y + (data[:, 3] == 2))
    test = np.column_stack([X_TEST, RNG.integers(0, 6, len(X_TEST)).astype(float)])  # 4 and 5: unknown
    test[::3, 1] = np.nan  # never missing in training
    test[::4, 3] = np.nan
    test[1, 3] = 2.5  # not a category
    _check_regressor(model, test)


def test_refitted_non_uniform_grid_and_extrapolation_modes():
    model = KANRegressor(**{**FAST, "max_iter": 12}, grid_extension=(7,), dtype="float64").fit(X, Y)
    knots = model.fitted_view_.network.layers[0].knots.numpy()
    assert knots.shape[1] == 7 + 2 * 3 + 1
    assert not np.allclose(np.diff(knots[:, 3:-3]), np.diff(knots[:, 3 : 4 + 1]))  # adaptive: not uniform
    _check_regressor(model, X_TEST)
    _check_regressor(model.set_params(extrapolation="continue"), X_TEST)


def test_snapped_symbolic_edges():
    model = KANRegressor(**FAST, dtype="float64").fit(X, Y)
    for name, (i, j) in zip(["sin", "x^2", "1/x", "log", "exp"], [(0, 0), (1, 1), (2, 2), (0, 1), (1, 2)]):
        model.fix_symbolic(0, i, j, name)
    assert len(model.fitted_view_.symbolic_edges(0)) == 5
    _check_regressor(model, X_TEST)


@pytest.mark.parametrize("loss", ["poisson", "gamma"])
def test_log_link_regressors_export_their_mean(loss):
    positive = np.exp(Y - Y.max()) + 0.1
    model = KANRegressor(**FAST, dtype="float64", loss=loss).fit(X, positive)
    assert model.fitted_view_.target_link == "log"
    got = _run(to_onnx(model, X[:2], dtype=np.float64), X_TEST)["variable"]
    np.testing.assert_allclose(got[:, 0], model.predict(X_TEST), rtol=1e-10)


@pytest.mark.parametrize("loss", ["absolute_error", "huber", "quantile"])
def test_robust_losses_export(loss):
    model = KANRegressor(**FAST, dtype="float64", loss=loss, quantile=0.7 if loss == "quantile" else None).fit(X, Y)
    got = _run(to_onnx(model, X[:2], dtype=np.float64), X_TEST)["variable"]
    np.testing.assert_allclose(got[:, 0], model.predict(X_TEST), rtol=1e-10)


def test_clear_errors():
    with pytest.raises(NotFittedError):
        to_onnx(KANRegressor(), X)
    model = KANRegressor(**FAST).fit(X, Y)
    with pytest.raises(ValueError, match=r"shape \(n_samples, 3\)"):
        to_onnx(model, X[:, :2])
    with pytest.raises(ValueError, match="float32 or numpy.float64"):
        to_onnx(model, X, dtype=np.int64)
    with pytest.raises(ValueError, match="target_opset >= 15"):
        to_onnx(model, X, target_opset=14)
    words = np.array(["a", "b", "c"], dtype=object)[RNG.integers(0, 3, len(X))]
    data = np.column_stack([X, words]).astype(object)
    categorical = KANRegressor(**FAST, categorical_features=[3]).fit(data, Y)
    with pytest.raises(ValueError, match="string categories"):
        to_onnx(categorical, X)
    with pytest.raises(ValueError, match="numbers only"):
        to_onnx(model, [["a", "b", "c"]])


@pytest.mark.parametrize(("spline_order", "grid_size"), [(1, 6), (2, 8), (3, 20), (4, 8)])
def test_other_spline_orders_and_grid_sizes(spline_order, grid_size):
    # The power form on most; a cubic grid of 20 intervals takes the local-basis fallback.
    params = {**FAST, "grid_size": grid_size, "spline_order": spline_order, "max_iter": 20}
    _check_regressor(KANRegressor(**params, dtype="float64").fit(X, Y), X_TEST)
    model = KANRegressor(**params, dtype="float32").fit(X, Y)
    X32 = X_TEST.astype(np.float32)
    got = _run(to_onnx(model, X[:2]), X32, np.float32)["variable"][:, 0]
    np.testing.assert_allclose(got, model.predict(X32), rtol=1e-5, atol=1e-5 * np.abs(model.predict(X32)).max())


@pytest.mark.parametrize("n_rows", [0, 1, 1500])
def test_any_number_of_rows_runs_in_row_blocks(n_rows):
    model = KANRegressor(**FAST, dtype="float64").fit(X, Y)
    rows = np.resize(X_TEST, (n_rows, 3))
    got = _run(to_onnx(model, X[:2], dtype=np.float64), rows)["variable"]
    assert got.shape == (n_rows, 1)
    if n_rows:
        np.testing.assert_allclose(got[:, 0], model.predict(rows), rtol=1e-10, atol=1e-10 * np.abs(got).max())
