"""A fitted KAN network as ONNX operators, computing what the engine's forward computes.

Every layer computes ``bias + silu(x) @ W_base + splines(x)`` (plus snapped
edges), with ``W_base = base_weight * mask`` and the splines scaled by
``spline_weight * mask`` (see :class:`skkan._engine.layer.KANLayer`). At
export time (numpy), each input's splines, on its own fitted (possibly
non-uniform) knots, are rewritten exactly as a polynomial around the middle
grid interval plus truncated powers ``max(+-(x - t), 0) ** k`` at the
interior knots (:func:`_spline_power_form`); the graph then computes a few
column blocks per layer (SiLU, powers, truncated powers) with broadcasts
over rows only, and multiplies each by its weights (a chain of Gemms), masks,
scales, constant terms and an ensemble's mean folded in. No interval search,
gather or scatter runs per row. Inputs are clamped to the grid's interior
range as the engine does. A layer whose power form would lose digits (large
grids: see :data:`MAX_POWER_FORM_GROWTH`) computes the local B-spline basis
instead (de Boor's triangle on the ``2k`` knots around each input, scattered
into its columns), slower but exact on any grid. Product nodes multiply
their two subnodes.

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


def _piece_polynomials(knots, spline_order, centers):
    """Power-form coefficients of every basis function on every grid interval.

    Returns ``pieces`` of shape (in, grid_size, n_basis, k + 1): on interval
    ``j = k + g`` of input ``i``, ``B_m(x) = sum_p pieces[i, g, m, p] * (x - centers[i]) ** p``.
    The Cox-de Boor recursion runs on polynomial coefficients (numpy, float64).
    """
    k = spline_order
    n_features, n_knots = knots.shape
    grid_size = n_knots - 2 * k - 1
    # basis[i, g, m, p] for the order-d functions, m = 0 .. n_knots - 2 - d.
    basis = np.zeros((n_features, grid_size, n_knots - 1, k + 1))
    basis[:, np.arange(grid_size), k + np.arange(grid_size), 0] = 1.0
    shift = knots - centers[:, None]  # t_m - c: x - t_m = u - (t_m - c)
    for d in range(1, k + 1):
        left_span = knots[:, d:-1] - knots[:, : -(d + 1)]
        right_span = knots[:, d + 1 :] - knots[:, 1:-d]
        lower = basis[:, :, :-1]
        upper = basis[:, :, 1:]
        # (u - (t_m - c)) / left_span * B_{m, d-1} + ((t_{m+d+1} - c) - u) / right_span * B_{m+1, d-1}
        left = (np.roll(lower, 1, axis=-1) - shift[:, None, : -(d + 1), None] * lower) / left_span[:, None, :, None]
        right = (shift[:, None, d + 1 :, None] * upper - np.roll(upper, 1, axis=-1)) / right_span[:, None, :, None]
        basis = left + right
    return basis


def _spline_power_form(knots, coefficients, spline_order):
    """A layer's splines as a polynomial plus truncated powers at the interior knots.

    On its interior range, the spline of edge ``(i, o)`` is
    ``sum_p poly[p, i, o] * (x - centers[i]) ** p
    + sum_q trunc[q, i, o] * max(s_q * (x - knots[i, k + 1 + q]), 0) ** k``, ``s_q = +-1``:
    ``poly`` is the polynomial piece of the middle grid interval, and every
    interior knot adds the jump of the ``k``-th derivative (over ``k!``) on
    the side away from the middle, so no term is evaluated far from where it
    matters (small terms, little cancellation).

    Parameters
    ----------
    knots : ndarray of shape (in, grid_size + 2 * k + 1)
    coefficients : ndarray of shape (in, n_basis, out)
        Scaled spline coefficients.
    spline_order : int

    Returns
    -------
    centers : ndarray of shape (in,)
    poly : ndarray of shape (k + 1, in, out)
    trunc : ndarray of shape (q, 2, in, out), or (grid_size - 1, in, out) for k = 0
        Coefficients of ``max(t - x, 0) ** k`` at the interior knots ``t``
        left of the middle interval (``[:, 0]``) and of ``max(x - t, 0) ** k``
        right of it (``[:, 1]``), padded as :func:`_sides` pads them; for
        k = 0, of the steps.
    """
    k = spline_order
    grid_size = knots.shape[1] - 2 * k - 1
    middle = grid_size // 2 if k > 0 else 0  # steps (k = 0) all rise to the right of the first interval
    centers = 0.5 * (knots[:, k + middle] + knots[:, k + middle + 1])
    pieces = np.einsum("igmp,imo->igpo", _piece_polynomials(knots, k, centers), coefficients)
    poly = pieces[:, middle].transpose(1, 0, 2)
    # Leading-coefficient jump at interior knot t_{k+1+q}, between intervals q and q + 1.
    jumps = pieces[:, 1:, k] - pieces[:, :-1, k]
    # Left of the middle, the jump is taken back below the knot: (x - t)^k [x < t] = (-1)^k max(t - x, 0)^k.
    signs = np.where(np.arange(grid_size - 1) < middle, -1.0, 1.0)
    trunc = (jumps * (signs ** (k + 1))[None, :, None]).transpose(1, 0, 2)
    if k > 0:  # the layout of _sides
        left, right = trunc[:middle], trunc[middle:]
        width = max(len(left), len(right))
        zeros = np.zeros((width, *trunc.shape[1:]))
        trunc = np.stack(
            [np.concatenate([zeros[len(left) :], left]), np.concatenate([right, zeros[len(right) :]])], axis=1
        )
    return centers, poly, trunc


#: Above this ratio of the power form's largest terms to the splines' bound
#: (:func:`_power_form_growth`), a layer's splines are computed from the
#: local B-spline basis instead: the power form's relative rounding errors
#: were measured at up to about 1e-16 times the ratio (float64), so this
#: keeps them near 1e-11. Fitted default grids (5 intervals, cubic) measured
#: 40 to 2e4; cubic grids of 20 intervals reach 4e5 and take the fallback.
MAX_POWER_FORM_GROWTH = 1e5


def _power_form_growth(knots, spline_order, centers, coefficients, poly, trunc):
    """Largest sum of the power form's terms over an output, over the largest the splines can be.

    Splines are bounded by their largest coefficients (the B-splines sum to
    one), while the power form's terms grow with the distance to their
    center or knot; their sum bounds what rounding can lose.
    """
    k = spline_order
    low, high = knots[:, k], knots[:, -k - 1]
    reach = np.maximum(centers - low, high - centers)
    terms = np.abs(poly[1:]) * (reach[None, :] ** np.arange(1, k + 1)[:, None])[..., None]
    total = np.abs(poly[0]) + terms.sum(axis=0)  # (in, out)
    if knots.shape[1] - 2 * k - 1 > 1:
        total = total + np.abs(trunc).reshape(-1, *trunc.shape[-2:]).sum(axis=0) * ((high - low) ** k)[:, None]
    bound = np.abs(coefficients).max(axis=1)  # (in, out)
    return float(total.sum(axis=0).max() / max(bound.sum(axis=0).max(), np.finfo(float).tiny))


def _spline_features(b, x, knots, spline_order, dtype):
    """Columns whose products with :func:`_spline_power_form`'s coefficients give the splines of ``x``.

    ``x`` (n, in) is clamped to each input's interior range (as the engine
    does). Returns the list of (n, in) power columns ``u ** p``, p = 1 .. k
    (``u = x - centers``), then the truncated powers, one (n, q * 2 * in)
    column block: ``max(t - x, 0) ** k`` at the knots left of the middle
    interval and ``max(x - t, 0) ** k`` at those right of it (see
    :func:`_spline_power_form`). For ``k == 0`` they are steps, 1 at and
    right of each interior knot (the engine's half-open intervals).
    """
    k = spline_order
    n_features, n_knots = knots.shape
    grid_size = n_knots - 2 * k - 1
    x = b.op(
        "Min",
        b.op("Max", x, b.constant(knots[None, :, k], dtype, "low")),
        b.constant(knots[None, :, -k - 1], dtype, "high"),
    )
    columns = []
    if k > 0:
        middle = grid_size // 2
        centers = 0.5 * (knots[:, k + middle] + knots[:, k + middle + 1])
        u = b.op("Sub", x, b.constant(centers[None, :], dtype, "centers"))
        columns.append(u)
        for _ in range(k - 1):
            columns.append(b.op("Mul", columns[-1], u))
    if grid_size < 2:
        return columns
    interior = knots[:, k + 1 : k + grid_size].T  # (grid_size - 1, in)
    if k == 0:
        x3 = b.op("Unsqueeze", x, b.constant([1], np.int64, "axes"))
        steps = b.cast(b.op("GreaterOrEqual", x3, b.constant(interior[None], dtype, "interior")), dtype)
        return [*columns, b.op("Reshape", steps, b.constant([-1, interior.size], np.int64, "shape"))]
    # Both sides at once: [-x, x] repeated q times (n, q * 2 * in) minus the knots [-left, right], laid out
    # (q, side, in), the shorter side padded with knots at the range's end, where its power is 0 (weight 0 too).
    # Repeating the rows keeps the subtraction a broadcast over rows only, onnxruntime's fast case.
    left, right = _sides(knots, k)
    signed = b.op("Concat", b.op("Neg", x), x, axis=1)
    repeated = b.op("Tile", signed, b.constant([1, len(left)], np.int64, "repeats"))
    interior = np.stack([-left, right], axis=1).reshape(1, -1)
    shifted = b.op("Sub", repeated, b.constant(interior, dtype, "interior"))
    return [*columns, b.op("Pow", b.op("Relu", shifted), b.constant(float(k), dtype, "order"))]


def _sides(knots, spline_order):
    """Interior knots left and right of the middle interval, each (q, in), the shorter padded at its far end."""
    k = spline_order
    grid_size = knots.shape[1] - 2 * k - 1
    interior = knots[:, k + 1 : k + grid_size].T
    left, right = interior[: grid_size // 2], interior[grid_size // 2 :]
    width = max(len(left), len(right))
    left = np.concatenate([np.repeat(knots[None, :, k], width - len(left), axis=0), left])
    right = np.concatenate([right, np.repeat(knots[None, :, -k - 1], width - len(right), axis=0)])
    return left, right


def _dense_basis(b, x, knots, spline_order, dtype):
    """Dense B-spline basis of ``x`` (n, in) on ``knots`` (in, n_knots), flattened: shape (n, in * n_basis).

    As the engine's fast path computes it (:mod:`skkan._engine.local_bspline`):
    only the ``k + 1`` non-zero values per input, by de Boor's triangle on
    the ``2k`` fitted knots around the input's interval, scattered into
    their columns. Slower than the power form, but as exact on any grid: the
    fallback for layers whose power form would lose digits.
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
    splines (:func:`_spline_features`), and the ``extra`` ``(column, weights,
    bias)`` triples are multiplied by their weights, computed at export time:
    masks, spline weights, the polynomial's constant term and ``projection``
    (an ensemble's mean) are folded into them.
    """
    mask = _array(layer.mask)
    projection = np.eye(layer.out_features) if projection is None else projection
    knots = _array(layer.knots)
    k = layer.spline_order
    coefficients = (_array(layer.spline_coef) * (_array(layer.spline_weight) * mask)[..., None]).transpose(0, 2, 1)
    centers, poly, trunc = _spline_power_form(knots, coefficients, k)
    columns, weights = [_silu(b, x, dtype)], [_array(layer.base_weight) * mask]
    if _power_form_growth(knots, k, centers, coefficients, poly, trunc) < MAX_POWER_FORM_GROWTH:
        columns += _spline_features(b, x, knots, k, dtype)
        weights += list(poly[1:])
        if layer.grid_size > 1:
            weights.append(trunc.reshape(-1, layer.out_features))
        bias = _array(layer.bias) + poly[0].sum(axis=0)
    else:
        columns.append(_dense_basis(b, x, knots, k, dtype))
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
