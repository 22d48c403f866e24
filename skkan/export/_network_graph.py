"""A fitted KAN network as ONNX operators, exactly as the engine's forward computes it.

Every layer computes ``bias + silu(x) @ W_base + basis(x) @ C`` (plus snapped
edges), with ``W_base = base_weight * mask`` and ``C`` the spline
coefficients scaled by ``spline_weight * mask`` (see
:class:`skkan._engine.layer.KANLayer`). The B-spline basis is the dense
Cox-de Boor recursion on each input's own knot vector, so adaptive
(non-uniform) and extended grids export as they are: inputs are clamped to
the grid's interior range, the interval holding each input is found by
counting the interior knots at or below it, and the recursion divides by the
fitted knot spans. Product nodes multiply their two subnodes, and an
ensemble's output is the mean of its members'.

The first layer's missing values and categorical lookup tables follow
:class:`skkan._engine.tabular.TabularEdges`: the spline path sees 0 at a
missing or categorical entry, its value there is taken back out, and the
learned value of the missing entry, or of the category (matched against the
fitted categories; an unknown one reads the default slot), is added.
"""

import numpy as np
import torch

from .._engine.symbolic_library import function_names

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


def _dense_basis(b, x, knots, spline_order, dtype):
    """Dense B-spline basis of ``x`` (n, in) on ``knots`` (in, n_knots), flattened: shape (n, in * n_basis).

    As the engine's fast path computes it (:mod:`skkan._engine.local_bspline`):
    only the ``k + 1`` non-zero values per input, by de Boor's triangle on
    the ``2k`` fitted knots around the input's interval, scattered into
    their columns.
    """
    k = spline_order
    n_features, n_knots = knots.shape
    grid_size = n_knots - 2 * k - 1
    n_basis = n_knots - k - 1
    x = b.clip(x, knots[:, k], knots[:, -k - 1], dtype)
    if grid_size > 1:
        # Interval j = k + the number of interior knots at or below x (the top of the range in the last one).
        x3 = b.op("Unsqueeze", x, b.constant([2], np.int64, "axes"))
        below = b.op("GreaterOrEqual", x3, b.constant(knots[None, :, k + 1 : k + grid_size], dtype, "interior"))
        count = b.op("ReduceSum", b.cast(below, np.float32), b.constant([2], np.int64, "axes"), keepdims=0)
        start = b.cast(count, np.int64)  # j - k
    else:
        start = b.cast(b.op("Mul", x, b.constant(0.0, dtype, "zero")), np.int64)
    if k == 0:
        values = [b.op("Add", b.op("Mul", x, b.constant(0.0, dtype, "zero")), b.constant(1.0, dtype, "one"))]
    else:
        # t[m] is knot t_{j-k+1+m}, m = 0 .. 2k-1, gathered from the flattened knot rows.
        offsets = np.arange(n_features)[None, :] * n_knots + 1
        flat = b.constant(knots.ravel(), dtype, "knots")
        t = [
            b.op("Gather", flat, b.op("Add", start, b.constant(offsets + m, np.int64, "offset"))) for m in range(2 * k)
        ]
        left = [None] + [b.op("Sub", x, t[k - d]) for d in range(1, k + 1)]
        right = [None] + [b.op("Sub", t[k - 1 + d], x) for d in range(1, k + 1)]
        values = [None]
        for degree in range(1, k + 1):
            previous, saved, values = values, None, []
            for r in range(degree):
                span = b.op("Sub", t[k + r], t[k - degree + r])
                term = b.op("Div", previous[r], span) if previous[r] is not None else b.op("Reciprocal", span)
                value = b.op("Mul", right[r + 1], term)
                values.append(value if saved is None else b.op("Add", value, saved))
                saved = b.op("Mul", left[degree - r], term)
            values.append(saved)
    columns = b.op("Add", start, b.constant(np.arange(n_features)[None, :] * n_basis, np.int64, "columns"))
    one = b.constant(1, np.int64, "one")
    all_columns = [columns]
    for _ in range(k):
        all_columns.append(b.op("Add", all_columns[-1], one))
    rows = b.op("Shape", x, start=0, end=1)
    zeros = b.op("ConstantOfShape", b.op("Concat", rows, b.constant([n_features * n_basis], np.int64, "width"), axis=0))
    if np.dtype(dtype) != np.float32:
        zeros = b.cast(zeros, dtype)
    return b.op(
        "ScatterElements",
        zeros,
        b.op("Concat", *all_columns, axis=1),
        b.op("Concat", *values, axis=1),
        axis=1,
    )


def _snapped_edges(b, x, layer, dtype):
    """Sum of the snapped edges ``c * f(a * x + b) + d`` at every output, or None."""
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
        part = b.op("MatMul", value, b.constant(scatter, dtype, "scatter"))
        total = part if total is None else b.op("Add", total, part)
    return total


def _numeric_layer(b, x, layer, dtype):
    """``layer.numeric_forward(x)`` for finite ``x`` of shape (n, in)."""
    mask = _array(layer.mask)
    base = b.op("MatMul", b.op("Mul", x, b.op("Sigmoid", x)), b.constant(_array(layer.base_weight) * mask, dtype, "w"))
    flat = _dense_basis(b, x, _array(layer.knots), layer.spline_order, dtype)
    coefficients = _array(layer.spline_coef) * (_array(layer.spline_weight) * mask)[..., None]
    matrix = coefficients.transpose(0, 2, 1).reshape(-1, layer.out_features)
    spline = b.op("MatMul", flat, b.constant(matrix, dtype, "coef"))
    output = b.op("Add", b.op("Add", base, spline), b.constant(_array(layer.bias), dtype, "bias"))
    snapped = _snapped_edges(b, x, layer, dtype)
    return output if snapped is None else b.op("Add", output, snapped)


def _category_values(b, raw, layer, categories, dtype):
    """Learned values of the categorical inputs' edges (zero where missing), summed: shape (n, out)."""
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
        known = b.op("MatMul", matches, b.constant(table[feature, :, :count].T * mask[feature], dtype, "table"))
        found = b.op("ReduceSum", matches, b.constant([1], np.int64, "axes"), keepdims=1)
        absent = b.op("Add", found, b.cast(b.op("IsNaN", column), dtype))
        unknown = b.op("Sub", b.constant(1.0, dtype, "one"), absent)
        default = b.constant((table[feature, :, count] * mask[feature])[None, :], dtype, "default")
        part = b.op("Add", known, b.op("Mul", unknown, default))
        total = part if total is None else b.op("Add", total, part)
    return total


def _first_layer(b, x, raw, layer, categories, dtype):
    """``layer(x)`` for the first layer, with missing values and categorical inputs (see the module docstring)."""
    if layer.tabular is None:
        return _numeric_layer(b, x, layer, dtype)
    is_categorical = np.zeros(layer.in_features, dtype=bool)
    if categories is not None:
        is_categorical = np.array([values is not None for values in categories])
    missing = b.op("IsNaN", x)
    special = b.op("Or", missing, b.constant(is_categorical[None, :], bool, "categorical"))
    clean = b.op("Where", special, b.constant(0.0, dtype, "zero"), x)
    output = _numeric_layer(b, clean, layer, dtype)
    with torch.no_grad():
        at_zero = _array(layer.numeric_edge_activations(torch.zeros_like(layer.mask[:, :1].T)))[0]
    output = b.op("Sub", output, b.op("MatMul", b.cast(special, dtype), b.constant(at_zero, dtype, "at_zero")))
    missing_values = _array(layer.tabular.missing_value) * _array(layer.tabular.edge_mask(layer))
    output = b.op("Add", output, b.op("MatMul", b.cast(missing, dtype), b.constant(missing_values, dtype, "missing")))
    if categories is not None:
        output = b.op("Add", output, _category_values(b, raw, layer, categories, dtype))
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


def network_output(b, x, raw, network, categories, dtype):
    """The network's output for inputs ``x`` (what it receives in predict), shape (n, n_outputs).

    Parameters
    ----------
    b : OnnxBuilder
    x : str
        Network inputs, of ``dtype``: standardised (and held within range),
        NaN for missing; categorical columns are ignored.
    raw : str
        The raw inputs in float64, whose categorical columns hold the
        category values.
    network : KANNetwork
    categories : list of (ndarray or None) or None
        The fitted categories of each input.
    dtype : numpy dtype
        The network's dtype, in which every layer computes.
    """
    for index, layer in enumerate(network.layers):
        if index == 0:
            subnodes = _first_layer(b, x, raw, layer, categories, dtype)
        else:
            subnodes = _numeric_layer(b, x, layer, dtype)
        x = _combine_subnodes(b, subnodes, network, index)
    if network.ensemble_size == 1:
        return x
    members = b.op("Reshape", x, b.constant([-1, network.ensemble_size, network.n_outputs], np.int64, "shape"))
    total = b.op("ReduceSum", members, b.constant([1], np.int64, "axes"), keepdims=0)
    return b.op("Div", total, b.constant(float(network.ensemble_size), dtype, "members"))
