"""B-spline edges as ONNX columns: the exact power form, and the local basis where it would lose digits.

At export time (numpy), the splines of each input, on its own fitted and
possibly non-uniform knots, are rewritten exactly as a polynomial around the
middle grid interval plus two-sided truncated powers ``max(+-(x - t), 0) ** k``
at the interior knots (:func:`spline_power_form`): the graph then needs no
interval search, gather or scatter per row (:func:`spline_features`). Where
that form's rounding could grow past :data:`MAX_POWER_FORM_GROWTH`
(:func:`power_form_growth`, large grids), :func:`dense_basis` computes the
local B-spline basis instead (de Boor's triangle on the ``2k`` knots around
each input, scattered into its columns): slower, exact on any grid.
"""

import numpy as np

__all__ = ["MAX_POWER_FORM_GROWTH", "dense_basis", "power_form_growth", "spline_features", "spline_power_form"]


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


def spline_power_form(knots, coefficients, spline_order):
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
#: (:func:`power_form_growth`), a layer's splines are computed from the
#: local B-spline basis instead: the power form's relative rounding errors
#: were measured at up to about 1e-16 times the ratio (float64), so this
#: keeps them near 1e-11. Fitted default grids (5 intervals, cubic) measured
#: 40 to 2e4; cubic grids of 20 intervals reach 4e5 and take the fallback.
MAX_POWER_FORM_GROWTH = 1e5


def power_form_growth(knots, spline_order, centers, coefficients, poly, trunc):
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


def spline_features(b, x, knots, spline_order, dtype):
    """Columns whose products with :func:`spline_power_form`'s coefficients give the splines of ``x``.

    ``x`` (n, in) is clamped to each input's interior range (as the engine
    does). Returns the list of (n, in) power columns ``u ** p``, p = 1 .. k
    (``u = x - centers``), then the truncated powers, one (n, q * 2 * in)
    column block: ``max(t - x, 0) ** k`` at the knots left of the middle
    interval and ``max(x - t, 0) ** k`` at those right of it (see
    :func:`spline_power_form`). For ``k == 0`` they are steps, 1 at and
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


def dense_basis(b, x, knots, spline_order, dtype):
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
