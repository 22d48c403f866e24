"""skl2onnx converters for KANRegressor and KANClassifier, and :func:`to_onnx`.

A converter writes what ``predict`` computes: the input encoding (in float64,
as ``predict`` standardises), the network (see :mod:`._network_graph`; in
float64, also for a float32 network, whose power form needs the digits),
run on blocks of rows, and the estimator's output step in float64 before a
cast to the input's dtype. Regressors output ``variable`` of shape
(n, n_outputs); classifiers ``label`` and ``probabilities``, as skl2onnx's
scikit-learn converters do (with its ``zipmap`` option).
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._encoding import STANDARDIZED_CLIP
from ._builder import MIN_OPSET, OnnxBuilder
from ._network_graph import check_exportable, network_output

__all__ = ["register_skl2onnx", "to_onnx"]

_MISSING_EXTRA = "ONNX export needs onnx, onnxruntime and skl2onnx: pip install 'skkan[onnx]'."


def _import_skl2onnx():
    try:
        import onnx  # noqa: F401
        import skl2onnx
    except ImportError as error:  # pragma: no cover - the extra is installed in CI
        raise ImportError(_MISSING_EXTRA) from error
    return skl2onnx


def _checked_view(estimator):
    """The fitted view of ``estimator`` after checking that it can be exported."""
    check_is_fitted(estimator)
    view = estimator.fitted_view_
    categories = view.input_encoding["categories"] or []
    for feature, values in enumerate(categories):
        if values is not None and values.dtype.kind != "f":
            raise ValueError(
                f"{type(estimator).__name__} feature {view.feature_names[feature]!r} has string categories, which "
                "ONNX export does not support: encode the column as numbers (e.g. an OrdinalEncoder in a Pipeline "
                "before the estimator) and fit again."
            )
    if view.target_link not in ("identity", "log"):
        raise ValueError(f"ONNX export supports target links 'identity' and 'log', not {view.target_link!r}.")
    check_exportable(view.network)
    return view


def _input_dtype(operator):
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    kind = operator.inputs[0].type
    if isinstance(kind, DoubleTensorType):
        return np.float64
    if isinstance(kind, FloatTensorType):
        return np.float32
    raise ValueError(f"skkan's ONNX export needs a float or double input tensor, got {type(kind).__name__}.")


def _network_inputs(b, x, view, network_dtype):
    """Raw inputs as float64, the standardised inputs in the network's dtype, and the bounds they are held in.

    ``predict`` clips the standardised inputs, and with
    ``extrapolation="constant"`` holds them within the training range; the
    two clips are one, at the returned ``(low, high)`` (NaN passes; see
    :func:`~._network_graph.network_output`).
    """
    encoding = view.input_encoding
    raw = b.cast(x, np.float64)
    scaled = b.op(
        "Div",
        b.op("Sub", raw, b.constant(encoding["mean"], np.float64, "mean")),
        b.constant(encoding["scale"], np.float64, "scale"),
    )
    n_features = np.shape(encoding["mean"])[-1]
    low, high = np.full(n_features, -STANDARDIZED_CLIP), np.full(n_features, STANDARDIZED_CLIP)
    if view.extrapolation == "constant" and encoding["input_range"] is not None:
        # clip(clip(s, a1, b1), a2, b2) = clip(s, min(max(a1, a2), b2), max(min(b1, b2), a2)); a NaN limit is none.
        range_low = np.nan_to_num(encoding["input_range"][0], nan=-np.inf)
        range_high = np.nan_to_num(encoding["input_range"][1], nan=np.inf)
        low, high = (
            np.minimum(np.maximum(low, range_low), range_high),
            np.maximum(np.minimum(high, range_high), range_low),
        )
    if network_dtype != np.float64:
        scaled = b.cast(scaled, network_dtype)
    return raw, scaled, (low, high)


def _raw_output(scope, operator, container):
    """Builder, fitted view and the network output in float64 for the operator's input."""
    if container.target_opset < MIN_OPSET:
        raise ValueError(f"skkan's ONNX export needs target_opset >= {MIN_OPSET}, got {container.target_opset}.")
    view = _checked_view(operator.raw_operator)
    b = OnnxBuilder(scope, container)
    network = view.network
    # float64 also for a float32 network: its power form needs the digits (float32 predict is matched to 1e-6);
    # float32 lost up to 1e-4 relative on default grids.
    network_dtype = np.float64

    def body(inner, x):
        raw, x, bounds = _network_inputs(inner, x, view, network_dtype)
        output = network_output(inner, x, raw, bounds, network, view.input_encoding["categories"], network_dtype)
        return output if network_dtype == np.float64 else inner.cast(output, np.float64)

    n_columns = len(view.feature_names)
    output = b.by_row_blocks(
        operator.inputs[0].full_name, n_columns, _input_dtype(operator), body, network.n_outputs, np.float64
    )
    return b, view, output


def _convert_regressor(scope, operator, container):
    b, view, output = _raw_output(scope, operator, container)
    if view.target_link == "log":
        output = b.op("Exp", output)
    output = b.op("Mul", output, b.constant(view.target_scale, np.float64, "target_scale"))
    output = b.op("Add", output, b.constant(view.target_mean, np.float64, "target_mean"))
    b.cast(output, _input_dtype(operator), output=operator.outputs[0].full_name)


def _class_labels(view):
    """``classes_`` as ONNX label constants: int64 for integers and booleans, str for strings."""
    classes = view.classes
    if classes.dtype.kind in "biu":
        return classes.astype(np.int64), np.int64
    if classes.dtype.kind == "f" and np.all(classes == np.round(classes)):
        return classes.astype(np.int64), np.int64
    if classes.dtype.kind in "OU" and all(isinstance(label, str) for label in classes.tolist()):
        return classes.astype(str), str
    raise ValueError(
        "ONNX labels must be all integers or all strings (as for skl2onnx's converters), got classes "
        f"{classes.tolist()[:5]}."
    )


def _convert_classifier(scope, operator, container):
    b, view, logits = _raw_output(scope, operator, container)
    if view.classes.size == 2:
        # One logit for two classes: class 0 has logit 0 (as predict_proba computes it).
        logits = b.op("Concat", b.op("Sub", logits, logits), logits, axis=1)
    labels, label_type = _class_labels(view)
    if container.get_options(operator.raw_operator, {"nocl": False})["nocl"]:
        labels, label_type = np.arange(labels.size), np.int64  # skl2onnx's nocl: class positions as labels
    index = b.op("ArgMax", logits, axis=1, keepdims=0)
    b.op("Gather", b.constant(labels, label_type, "classes"), index, axis=0, output=operator.outputs[0].full_name)
    probabilities = b.op("Softmax", logits, axis=1)
    b.cast(probabilities, _input_dtype(operator), output=operator.outputs[1].full_name)


def _regressor_shape(operator):
    view = _checked_view(operator.raw_operator)
    kind = operator.inputs[0].type.__class__
    _input_dtype(operator)
    operator.outputs[0].type = kind([operator.inputs[0].get_first_dimension(), view.network.n_outputs])


def _classifier_shape(operator):
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes

    _class_labels(_checked_view(operator.raw_operator))
    _input_dtype(operator)
    calculate_linear_classifier_output_shapes(operator)


def register_skl2onnx():
    """Register skkan's converters with skl2onnx, so it can convert pipelines holding skkan estimators.

    After this call, :func:`skl2onnx.to_onnx` converts a
    :class:`~skkan.KANRegressor` or :class:`~skkan.KANClassifier`, alone or
    as a step of a :class:`~sklearn.pipeline.Pipeline` (with a
    ``ColumnTransformer``, ``StandardScaler``, ``OneHotEncoder`` and
    other steps skl2onnx knows). :func:`skkan.to_onnx` calls it itself.
    Calling it again does nothing new. Classifiers accept skl2onnx's
    ``zipmap`` and ``nocl`` options (pass ``{KANClassifier: {"zipmap": False}}``
    as ``options`` for a plain ``probabilities`` tensor).

    Raises
    ------
    ImportError
        If onnx or skl2onnx is not installed (``pip install 'skkan[onnx]'``).

    Examples
    --------
    >>> import numpy as np
    >>> from skl2onnx import to_onnx
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skkan import KANRegressor, register_skl2onnx
    >>> register_skl2onnx()
    >>> X = np.linspace(-1, 1, 60).reshape(-1, 2)
    >>> model = make_pipeline(StandardScaler(), KANRegressor(hidden_layer_sizes=(2,), max_iter=5, random_state=0))
    >>> onx = to_onnx(model.fit(X, X[:, 0] ** 2), X[:1].astype(np.float32))
    >>> [output.name for output in onx.graph.output]
    ['variable']
    """
    skl2onnx = _import_skl2onnx()
    from skkan import KANClassifier, KANRegressor

    skl2onnx.update_registered_converter(KANRegressor, "SkkanKANRegressor", _regressor_shape, _convert_regressor)
    skl2onnx.update_registered_converter(
        KANClassifier,
        "SkkanKANClassifier",
        _classifier_shape,
        _convert_classifier,
        options={"zipmap": [True, False, "columns"], "nocl": [False, True]},
    )


def to_onnx(estimator, X_sample, *, dtype=np.float32, target_opset=None):
    """Export a fitted KANRegressor or KANClassifier to an ONNX model.

    The model computes what ``predict`` (and ``predict_proba``) computes
    with standard ONNX operators only, so onnxruntime runs it without skkan
    or torch: input standardisation and the hold within the training range
    (``extrapolation="constant"``), the B-spline edges on the fitted knots
    (adaptive and extended grids included), SiLU residuals, snapped symbolic
    edges, product nodes, ensembles, learned values for missing inputs (NaN)
    and categorical lookup tables (unknown categories included).

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
        A fitted estimator. Categorical features must have numeric
        categories (encode string ones with an ``OrdinalEncoder`` first).
    X_sample : array-like of shape (n_samples, n_features)
        A few numeric input rows; only their number of columns is used.
    dtype : {numpy.float32, numpy.float64}, default=numpy.float32
        Element type of the model's input tensor ``X`` and its outputs.
        The scaling and the network compute in float64 (for a float32
        network too, which then matches its ``predict`` to float32
        rounding).
    target_opset : int, optional
        ONNX opset (15 or later); skl2onnx's default when None.

    Returns
    -------
    onnx.ModelProto
        Input ``X`` of shape (n, n_features). Outputs: ``variable`` of
        shape (n, n_outputs) for a regressor; ``label`` (n,) and
        ``probabilities`` (n, n_classes) for a classifier (labels are int64
        or strings as for skl2onnx's converters).

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    ValueError
        For a sample with the wrong number of columns or non-numeric
        values, an unsupported dtype, or a model part that has no ONNX form.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from skkan import KANRegressor, to_onnx
    >>> X = np.linspace(-1, 1, 80).reshape(-1, 2)
    >>> model = KANRegressor(hidden_layer_sizes=(3,), max_iter=10, random_state=0).fit(X, X[:, 0] * X[:, 1])
    >>> session = ort.InferenceSession(to_onnx(model, X).SerializeToString())
    >>> (onnx_prediction,) = session.run(None, {"X": X.astype(np.float32)})
    >>> bool(np.allclose(onnx_prediction[:, 0], model.predict(X), rtol=1e-4, atol=1e-6))
    True
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be numpy.float32 or numpy.float64, got {dtype}.")
    _checked_view(estimator)
    try:
        sample = np.asarray(X_sample, dtype=dtype)
    except (TypeError, ValueError):
        raise ValueError(
            "X_sample must hold numbers only; encode string columns as numbers before the estimator "
            "(e.g. in a Pipeline) to export it."
        ) from None
    if sample.ndim != 2 or sample.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X_sample must have shape (n_samples, {estimator.n_features_in_}) like the data "
            f"{type(estimator).__name__} was fitted on, got {sample.shape}."
        )
    skl2onnx = _import_skl2onnx()
    register_skl2onnx()
    options = {id(estimator): {"zipmap": False}} if hasattr(estimator, "classes_") else None
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    tensor_type = DoubleTensorType if dtype == np.float64 else FloatTensorType
    return skl2onnx.convert_sklearn(
        estimator,
        initial_types=[("X", tensor_type([None, sample.shape[1]]))],
        target_opset=target_opset,
        options=options,
    )
