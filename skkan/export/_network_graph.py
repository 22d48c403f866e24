"""A fitted KAN network as ONNX operators, computing what the engine's forward computes.

Every layer computes ``bias + silu(x) @ W_base + splines(x)`` (plus snapped
edges), with ``W_base = base_weight * mask`` and the splines scaled by
``spline_weight * mask`` (see :class:`skkan._engine.layer.KANLayer`). The
splines are column blocks computed as :mod:`skkan.export._spline_graph`
says (an exact power form, or the local basis on large grids), with
broadcasts over rows only; each block is multiplied by its weights (a chain
of Gemms), with masks, scales, constant terms and an ensemble's mean folded
in. Inputs are clamped to the grid's interior range as the engine does.
Product nodes multiply their two subnodes.

The first layer's missing values and categorical lookup tables follow
:class:`skkan._engine.tabular.TabularEdges`: the spline path sees a fixed
value at a missing or categorical entry, its value there is taken back out,
and the learned value of the missing entry, or of the category (matched
against the fitted categories; an unknown one reads the default slot), is
added.

The converters run all of this on blocks of rows (a Scan,
:meth:`~._builder.OnnxBuilder.by_row_blocks`), so that the temporaries stay
in cache.
"""

import numpy as np
import torch

from .._engine.symbolic_library import function_names
from ._spline_graph import MAX_POWER_FORM_GROWTH, dense_basis, power_form_growth, spline_features, spline_power_form

__all__ = ["network_output", "check_exportable"]

# The protected forms of skkan._engine.symbolic_library, which training and
# predict evaluate (inputs clamped away from a singularity or a domain edge).
_DOMAIN_EPS = 1e-4
_EXP_MAX = 40.0


def _array(tensor):
    return tensor.detach().cpu().to(torch.float64).numpy()


def _power(b, u, exponent):
    result = u
    for _ in range(exponent - 1):
        result = b.op("Mul", result, u)
    return result


def _reciprocal(b, u, dtype):
    eps = b.constant(_DOMAIN_EPS, dtype, "eps")
    signed = b.op("Where", b.op("Less", u, b.constant(0.0, dtype, "zero")), b.op("Neg", eps), eps)
    small = b.op("Less", b.op("Abs", u), eps)
    return b.op("Reciprocal", b.op("Where", small, signed, u))


def _at_least(b, u, low, dtype):
    low = b.constant(low, dtype, "low")
    return b.op("Where", b.op("Less", u, low), low, u)


def _at_most(b, u, high, dtype):
    high = b.constant(high, dtype, "high")
    return b.op("Where", b.op("Greater", u, high), high, u)


# ONNX form of every function a snapped edge may hold, by its library name.
_SYMBOLIC_ONNX = {
    "x": lambda b, u, dtype: u,
    "x^2": lambda b, u, dtype: _power(b, u, 2),
    "x^3": lambda b, u, dtype: _power(b, u, 3),
    "x^4": lambda b, u, dtype: _power(b, u, 4),
    "1/x": _reciprocal,
    "sqrt": lambda b, u, dtype: b.op("Sqrt", _at_least(b, u, _DOMAIN_EPS, dtype)),
    "exp": lambda b, u, dtype: b.op("Exp", _at_most(b, u, _EXP_MAX, dtype)),
    "log": lambda b, u, dtype: b.op("Log", _at_least(b, u, _DOMAIN_EPS, dtype)),
    "sin": lambda b, u, dtype: b.op("Sin", u),
    "cos": lambda b, u, dtype: b.op("Cos", u),
    "tanh": lambda b, u, dtype: b.op("Tanh", u),
    "abs": lambda b, u, dtype: b.op("Abs", u),
    "gaussian": lambda b, u, dtype: b.op("Exp", b.op("Neg", b.op("Mul", u, u))),
    "arctan": lambda b, u, dtype: b.op("Atan", u),
    "arctanh": lambda b, u, dtype: b.op(
        "Atanh", _at_most(b, _at_least(b, u, -1 + _DOMAIN_EPS, dtype), 1 - _DOMAIN_EPS, dtype)
    ),
    "arcsin": lambda b, u, dtype: b.op("Asin", _at_most(b, _at_least(b, u, -1.0, dtype), 1.0, dtype)),
}


def _snapped_groups(layer):
    """``(name, rows, cols)`` of the active snapped edges of ``layer``, one entry per function."""
    if layer.symbolic is None:
        return []
    index = layer.symbolic.function_index.cpu().numpy()
    active = (layer.symbolic.mask.cpu().numpy() != 0) & (index >= 0)
    names = function_names()
    return [(names[k], *np.nonzero(active & (index == k))) for k in np.unique(index[active]).tolist()]


def check_exportable(network):
    """Raise ``ValueError`` naming any edge of ``network`` the ONNX export cannot write."""
    for number, layer in enumerate(network.layers):
        for name, rows, cols in _snapped_groups(layer):
            if name not in _SYMBOLIC_ONNX:
                raise ValueError(
                    f"Layer {number} edge ({int(rows[0])}, {int(cols[0])}) is snapped to {name!r}, which has no ONNX "
                    "form yet; un-snap it (fix_symbolic with name=None) before exporting."
                )


def _silu(b, x, dtype):
    """``x * sigmoid(x)`` as ``h + h * tanh(h)``, ``h = x / 2``: onnxruntime's Tanh is twice as fast as its
    Sigmoid for doubles. The two agree to rounding (absolute errors of ``|x|`` ulps, where silu is near 0)."""
    half = b.op("Mul", x, b.constant(0.5, dtype, "half"))
    return b.op("Add", half, b.op("Mul", half, b.op("Tanh", half)))


def _snapped_edges(b, x, layer, dtype, projection):
    """Sum of the snapped edges ``c * f(a * x + b) + d`` at every output (times ``projection``), or None."""
    total = None
    affine = None if layer.symbolic is None else _array(layer.symbolic.affine)
    for name, rows, cols in _snapped_groups(layer):
        a, shift, c, d = affine[rows, cols].T
        u = b.op(
            "Add",
            b.op("Mul", b.op("Gather", x, b.constant(rows, np.int64, "rows"), axis=1), b.constant(a, dtype, "a")),
            b.constant(shift, dtype, "b"),
        )
        value = b.op(
            "Add", b.op("Mul", _SYMBOLIC_ONNX[name](b, u, dtype), b.constant(c, dtype, "c")), b.constant(d, dtype, "d")
        )
        scatter = np.zeros((rows.size, layer.out_features))
        scatter[np.arange(rows.size), cols] = 1.0
        part = b.op("MatMul", value, b.constant(scatter @ projection, dtype, "scatter"))
        total = part if total is None else b.op("Add", total, part)
    return total


def _numeric_layer(b, x, layer, dtype, extra=(), projection=None):
    """``layer.numeric_forward(x) @ projection`` for finite ``x`` of shape (n, in), as a chain of Gemms.

    The columns ``silu(x)``, the powers and the truncated powers of the
    splines (:func:`spline_features`), and the ``extra`` ``(column, weights,
    bias)`` triples are multiplied by their weights, computed at export time:
    masks, spline weights, the polynomial's constant term and ``projection``
    (an ensemble's mean) are folded into them.
    """
    mask = _array(layer.mask)
    projection = np.eye(layer.out_features) if projection is None else projection
    knots = _array(layer.knots)
    k = layer.spline_order
    coefficients = (_array(layer.spline_coef) * (_array(layer.spline_weight) * mask)[..., None]).transpose(0, 2, 1)
    centers, poly, trunc = spline_power_form(knots, coefficients, k)
    columns, weights = [_silu(b, x, dtype)], [_array(layer.base_weight) * mask]
    if power_form_growth(knots, k, centers, coefficients, poly, trunc) < MAX_POWER_FORM_GROWTH:
        columns += spline_features(b, x, knots, k, dtype)
        weights += list(poly[1:])
        if layer.grid_size > 1:
            weights.append(trunc.reshape(-1, layer.out_features))
        bias = _array(layer.bias) + poly[0].sum(axis=0)
    else:
        columns.append(dense_basis(b, x, knots, k, dtype))
        weights.append(coefficients.reshape(-1, layer.out_features))
        bias = _array(layer.bias)
    for column, extra_weights, extra_bias in extra:
        columns.append(column)
        weights.append(extra_weights)
        bias = bias + extra_bias
    matrix = np.concatenate(weights, axis=0) @ projection
    # One Gemm per group of columns, each adding to the last: cheaper than concatenating them.
    output = b.constant((bias @ projection)[None, :], dtype, "bias")
    rows = np.cumsum([0] + [block.shape[0] for block in weights])
    for column, first, last in zip(columns, rows[:-1], rows[1:]):
        output = b.op("Gemm", column, b.constant(matrix[first:last], dtype, "weights"), output)
    snapped = _snapped_edges(b, x, layer, dtype, projection)
    return output if snapped is None else b.op("Add", output, snapped)


def _category_values(b, raw, layer, categories, dtype, projection):
    """Learned values of the categorical inputs' edges (zero where missing), summed, times ``projection``."""
    tabular = layer.tabular
    mask = _array(tabular.edge_mask(layer))
    table = _array(tabular.category_value)
    total = None
    for feature, values in enumerate(categories):
        if values is None:
            continue
        count = values.size
        column = b.column(raw, feature)  # float64: the raw value, as predict compares it
        matches = b.cast(b.op("Equal", column, b.constant(values[None, :], np.float64, "categories")), dtype)
        known = b.op(
            "MatMul", matches, b.constant((table[feature, :, :count].T * mask[feature]) @ projection, dtype, "table")
        )
        found = b.op("ReduceSum", matches, b.constant([1], np.int64, "axes"), keepdims=1)
        absent = b.op("Add", found, b.cast(b.op("IsNaN", column), dtype))
        unknown = b.op("Sub", b.constant(1.0, dtype, "one"), absent)
        default = b.constant(((table[feature, :, count] * mask[feature]) @ projection)[None, :], dtype, "default")
        part = b.op("Add", known, b.op("Mul", unknown, default))
        total = part if total is None else b.op("Add", total, part)
    return total


def _first_layer(b, x, raw, bounds, layer, categories, dtype, projection):
    """``layer(x) @ projection`` for the first layer, with missing and categorical inputs (see the module docstring).

    ``x`` is standardised but not yet held within ``bounds``: the clip comes
    after NaN entries are set aside, so that it cannot meet them.
    """
    projection = np.eye(layer.out_features) if projection is None else projection
    low, high = (b.constant(bound[None, :], dtype, "bound") for bound in bounds)
    if layer.tabular is None:
        return _numeric_layer(b, b.op("Min", b.op("Max", x, low), high), layer, dtype, projection=projection)
    is_categorical = np.zeros(layer.in_features, dtype=bool)
    if categories is not None:
        is_categorical = np.array([values is not None for values in categories])
    missing = b.op("IsNaN", x)
    special = missing
    if is_categorical.any():
        special = b.op("Or", missing, b.constant(is_categorical[None, :], bool, "categorical"))
    # predict feeds 0 to the spline path at special entries, after the clip; here they hold
    # clip(0), and the edges' value there comes back out.
    clean = b.op("Min", b.op("Max", b.op("Where", special, b.constant(0.0, dtype, "zero"), x), low), high)
    at = torch.as_tensor(np.clip(0.0, *bounds)[None, :], dtype=layer.mask.dtype)
    with torch.no_grad():
        at_zero = _array(layer.numeric_edge_activations(at))[0]
    # The spline path's value there comes back out where a numeric input is
    # missing, and always for categorical ones; a missing input's learned value goes in.
    missing_values = _array(layer.tabular.missing_value) * _array(layer.tabular.edge_mask(layer))
    missing_weights = missing_values - at_zero * ~is_categorical[:, None]
    extra = [(b.cast(missing, dtype), missing_weights, -at_zero[is_categorical].sum(axis=0))]
    output = _numeric_layer(b, clean, layer, dtype, extra, projection)
    if categories is not None:
        output = b.op("Add", output, _category_values(b, raw, layer, categories, dtype, projection))
    return output


def _combine_subnodes(b, subnodes, network, index):
    """Node values of level ``index + 1``: product nodes multiply their two subnodes."""
    n_products = network.multiplication_nodes[index + 1]
    if not n_products:
        return subnodes
    n_sums = network.widths[index + 1] - n_products
    first = np.arange(n_sums, n_sums + 2 * n_products, 2)
    products = b.op(
        "Mul",
        b.op("Gather", subnodes, b.constant(first, np.int64, "subnodes"), axis=1),
        b.op("Gather", subnodes, b.constant(first + 1, np.int64, "subnodes"), axis=1),
    )
    if not n_sums:
        return products
    sums = b.op("Gather", subnodes, b.constant(np.arange(n_sums), np.int64, "subnodes"), axis=1)
    return b.op("Concat", sums, products, axis=1)


def network_output(b, x, raw, bounds, network, categories, dtype):
    """The network's output for inputs ``x`` (what it receives in predict), shape (n, n_outputs).

    Parameters
    ----------
    b : OnnxBuilder
    x : str
        Network inputs, of ``dtype``: standardised, NaN for missing;
        categorical columns are ignored.
    raw : str
        The raw inputs in float64, whose categorical columns hold the
        category values.
    bounds : tuple of ndarray
        ``(low, high)``, of shape (in,): ``predict`` holds ``x`` within
        them (its clip of standardised values, and the training range).
    network : KANNetwork
    categories : list of (ndarray or None) or None
        The fitted categories of each input.
    dtype : numpy dtype
        The network's dtype, in which every layer computes.
    """
    last = len(network.layers) - 1
    # An ensemble's mean over its members is folded into the last layer's weights.
    mean = None
    if network.ensemble_size > 1:
        mean = np.tile(np.eye(network.n_outputs), (network.ensemble_size, 1)) / network.ensemble_size
    for index, layer in enumerate(network.layers):
        projection = mean if index == last else None
        if index == 0:
            subnodes = _first_layer(b, x, raw, bounds, layer, categories, dtype, projection)
        else:
            subnodes = _numeric_layer(b, x, layer, dtype, projection=projection)
        x = _combine_subnodes(b, subnodes, network, index)
    return x
