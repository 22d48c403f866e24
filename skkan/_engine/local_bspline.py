"""Local B-spline evaluation: only the ``spline_order + 1`` non-zero basis values.

On the knot interval ``[t_j, t_{j+1})`` holding an input, exactly the basis
functions ``B_{j-k}, ..., B_j`` are non-zero (``k`` is the spline order).
This module evaluates those ``k + 1`` values and their derivatives with de
Boor's triangular recursion on the ``2k`` knots around the interval, gathered
per input value. The cost per value is ``O(k^2)`` and independent of the grid
size, and the knots may be non-uniform (adaptive grids), unlike a closed form
for uniform splines.

The dense reference :func:`~skkan._engine.bspline.bspline_basis` runs the
Cox-de Boor recursion over all knots; both agree to rounding error and the
tests check it. Inputs are clamped to the interior range like the reference.
"""

import torch

from .bspline import clamp_to_grid, interval_index

__all__ = ["local_basis", "local_values", "local_dense_basis", "local_interval"]

# Up to this many intervals, counting the interior knots below each input is
# faster than a batched ``searchsorted``.
_MAX_COUNTED_INTERVALS = 16


def local_interval(x, knots, spline_order):
    """Interval index ``j`` of clamped inputs, like :func:`~skkan._engine.bspline.interval_index`."""
    grid_size = knots.shape[1] - 2 * spline_order - 1
    if grid_size > _MAX_COUNTED_INTERVALS:
        return interval_index(x, knots, spline_order)
    # j = k + number of interior knots t_{k+1}, ..., t_{k+G-1} at or below x.
    # int32 counts move half the memory of int64 ones.
    count = torch.full(x.shape, spline_order, dtype=torch.int32, device=x.device)
    for m in range(spline_order + 1, spline_order + grid_size):
        count += x >= knots[:, m]
    return count.long()


def _local_knots(knots, interval, spline_order):
    """Knots ``t[j-k+1], ..., t[j+k]`` around each interval, a list of 2k (batch, n_features) planes.

    Plane ``m`` gathers from the transposed knots shifted by ``m``, so all
    planes share one index and come out contiguous, which keeps the
    recursion's element-wise operations on contiguous memory.
    """
    grid_size = knots.shape[1] - 2 * spline_order - 1
    by_row = knots.T.contiguous()
    index = interval - spline_order
    return [torch.gather(by_row[m + 1 : m + 1 + grid_size], 0, index) for m in range(2 * spline_order)]


def local_basis(x, knots, spline_order, with_derivative=False):
    """Non-zero B-spline basis values of clamped inputs.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, n_features)
        Inputs; they are clamped to each feature's interior range.
    knots : torch.Tensor of shape (n_features, grid_size + 2 * spline_order + 1)
        Strictly increasing knot vector of each feature.
    spline_order : int
        Order ``k`` of the splines.
    with_derivative : bool, default=False
        Also return the derivative of each basis value with respect to the
        (clamped) input.

    Returns
    -------
    start : torch.LongTensor of shape (batch, n_features)
        Index ``j - k`` of the first non-zero basis function, in
        ``[0, grid_size - 1]``.
    values : torch.Tensor of shape (batch, spline_order + 1, n_features)
        ``values[:, r]`` is ``B_{start + r}(x)``. The basis axis comes before
        the feature axis so that each of the ``k + 1`` values is written and
        read in contiguous runs.
    derivatives : torch.Tensor of shape (batch, spline_order + 1, n_features)
        Only when ``with_derivative``; ``d B_{start + r} / dx``.
    """
    x = clamp_to_grid(x, knots, spline_order)
    interval = local_interval(x, knots, spline_order)
    return (interval - spline_order, *local_values(x, knots, interval, spline_order, with_derivative))


def local_values(x, knots, interval, spline_order, with_derivative=False, with_lower_order=False):
    """Non-zero basis values of ``x`` on given knot intervals (de Boor's triangle).

    ``x`` must lie in the closed interval ``[t_j, t_{j+1}]`` of its
    ``interval`` index ``j`` (``k <= j < grid_size + k``); the values are
    those of the polynomial pieces of that interval. See :func:`local_basis`
    for the shapes; ``start`` is ``interval - spline_order``.

    With ``with_lower_order``, the last returned tensor, of shape
    (batch, k, n_features), holds the order ``k - 1`` values
    ``B_{start + 1 + s, k - 1}(x)``, from which derivatives follow.
    """
    ones = torch.ones_like(x)
    if spline_order == 0:
        values = ones.unsqueeze(1)
        extra = (torch.zeros_like(values),) if with_derivative else ()
        extra += (x.new_zeros(x.shape[0], 0, x.shape[1]),) if with_lower_order else ()
        return (values, *extra)
    t = _local_knots(knots, interval, spline_order)
    # t[k - 1 + m] is knot t_{j+m}: left[d] = x - t_{j+1-d}, right[d] = t_{j+d} - x.
    left = [None] + [x - t[spline_order - d] for d in range(1, spline_order + 1)]
    right = [None] + [t[spline_order - 1 + d] - x for d in range(1, spline_order + 1)]
    values = [ones]
    previous = values
    for degree in range(1, spline_order + 1):
        previous = values
        saved = None
        next_values = []
        for r in range(degree):
            # The denominator is a knot span holding x's interval, so it is positive.
            term = previous[r] / (t[spline_order + r] - t[spline_order - degree + r])
            value = right[r + 1] * term
            next_values.append(value if saved is None else value + saved)
            saved = left[degree - r] * term
        next_values.append(saved)
        values = next_values
    stacked = torch.stack(values, dim=1)
    lower = (torch.stack(previous, dim=1),) if with_lower_order else ()
    if not with_derivative:
        return (stacked, *lower)
    # d B_{m,k}/dx = k (B_{m,k-1} / (t_{m+k} - t_m) - B_{m+1,k-1} / (t_{m+k+1} - t_{m+1}))
    # with m = j - k + r; ``previous`` holds B_{j-k+1..j, k-1}.
    scaled = [spline_order * previous[r] / (t[spline_order + r] - t[r]) for r in range(spline_order)]
    zero = torch.zeros_like(x)
    derivatives = [
        (scaled[r - 1] if r > 0 else zero) - (scaled[r] if r < spline_order else zero) for r in range(spline_order + 1)
    ]
    return (stacked, torch.stack(derivatives, dim=1), *lower)


def local_dense_basis(x, knots, spline_order):
    """Dense basis of shape (batch, n_features, grid_size + spline_order) from local values.

    Equal to :func:`~skkan._engine.bspline.bspline_basis` but computed from
    the ``k + 1`` local values; differentiable with respect to ``x`` through
    plain autograd.
    """
    n_basis = knots.shape[1] - spline_order - 1
    start, values = local_basis(x, knots, spline_order)
    offsets = torch.arange(spline_order + 1, device=x.device)
    dense = x.new_zeros(x.shape[0], x.shape[1], n_basis)
    return dense.scatter(2, start.unsqueeze(-1) + offsets, values.transpose(1, 2))
