"""B-spline knot vectors and basis evaluation (torch only).

Every edge of a KAN layer holds a spline of order ``spline_order`` (``k``) on a
grid of ``grid_size`` (``G``) intervals. The knot vector of an input feature
has ``G + 2k + 1`` entries: the ``G + 1`` grid points spanning the feature's
range plus ``k`` extra knots on each side, so that the ``G + k`` basis
functions form a partition of unity on the whole interior range.

Inputs are clamped to the interior range ``[knots[k], knots[G + k]]`` before
the basis is evaluated: beyond the grid each spline is held constant at its
boundary value (the SiLU residual of the edge keeps extrapolating). This is
what keeps predictions finite and sensible for inputs outside the training
range.
"""

import torch

__all__ = [
    "uniform_knots",
    "extend_knots",
    "interior_range",
    "clamp_to_grid",
    "bspline_basis",
]


def extend_knots(grid_points, spline_order):
    """Add ``spline_order`` knots on each side of a grid.

    Parameters
    ----------
    grid_points : torch.Tensor of shape (n_features, grid_size + 1)
        Increasing grid points spanning each feature's range.
    spline_order : int
        Order ``k`` of the splines.

    Returns
    -------
    knots : torch.Tensor of shape (n_features, grid_size + 2 * spline_order + 1)
        The grid with ``k`` extra knots on each side, spaced like the mean
        interval of the grid.
    """
    grid_size = grid_points.shape[1] - 1
    step = (grid_points[:, -1:] - grid_points[:, :1]) / grid_size
    offsets = torch.arange(1, spline_order + 1, dtype=grid_points.dtype, device=grid_points.device)
    left = grid_points[:, :1] - step * offsets.flip(0)
    right = grid_points[:, -1:] + step * offsets
    return torch.cat([left, grid_points, right], dim=1)


def uniform_knots(low, high, grid_size, spline_order):
    """Uniform knot vectors between per-feature bounds.

    Parameters
    ----------
    low, high : torch.Tensor of shape (n_features,)
        Lower and upper end of each feature's grid; ``high > low``.
    grid_size : int
        Number of grid intervals ``G``.
    spline_order : int
        Order ``k`` of the splines.

    Returns
    -------
    knots : torch.Tensor of shape (n_features, grid_size + 2 * spline_order + 1)
    """
    fractions = torch.linspace(0.0, 1.0, grid_size + 1, dtype=low.dtype, device=low.device)
    grid_points = low[:, None] + (high - low)[:, None] * fractions[None, :]
    return extend_knots(grid_points, spline_order)


def interior_range(knots, spline_order):
    """Return ``(low, high)``, the range on which the basis is a partition of unity."""
    return knots[:, spline_order], knots[:, -spline_order - 1]


def clamp_to_grid(x, knots, spline_order):
    """Clamp ``x`` of shape (batch, n_features) to each feature's interior range."""
    low, high = interior_range(knots, spline_order)
    return torch.maximum(torch.minimum(x, high), low)


def _safe_divide(numerator, denominator):
    # Repeated knots give zero-width intervals; the matching basis term is zero.
    zero = denominator == 0
    return torch.where(
        zero, torch.zeros_like(numerator), numerator / torch.where(zero, torch.ones_like(denominator), denominator)
    )


def bspline_basis(x, knots, spline_order):
    """Evaluate all B-spline basis functions (dense reference implementation).

    Uses the Cox-de Boor recursion on the whole knot vector. ``x`` is clamped
    to the interior range first, and the last interval is closed on the right
    so that the upper bound itself has a full partition of unity.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, n_features)
        Layer inputs.
    knots : torch.Tensor of shape (n_features, grid_size + 2 * spline_order + 1)
        Knot vector of each feature.
    spline_order : int
        Order ``k`` of the splines.

    Returns
    -------
    basis : torch.Tensor of shape (batch, n_features, grid_size + spline_order)
        Basis values; each row sums to one.
    """
    n_knots = knots.shape[1]
    grid_size = n_knots - 2 * spline_order - 1
    x = clamp_to_grid(x, knots, spline_order)
    interval = interval_index(x, knots, spline_order)
    basis = torch.nn.functional.one_hot(interval, n_knots - 1).to(x.dtype)
    x = x.unsqueeze(-1)
    t = knots.unsqueeze(0)
    for order in range(1, spline_order + 1):
        left = _safe_divide(x - t[..., : -(order + 1)], t[..., order:-1] - t[..., : -(order + 1)])
        right = _safe_divide(t[..., order + 1 :] - x, t[..., order + 1 :] - t[..., 1:-order])
        basis = left * basis[..., :-1] + right * basis[..., 1:]
    assert basis.shape[-1] == grid_size + spline_order
    return basis


def interval_index(x, knots, spline_order):
    """Index ``j`` of the knot interval ``[t_j, t_{j+1})`` holding each clamped input.

    Returns a long tensor of the shape of ``x`` with values in
    ``[spline_order, grid_size + spline_order - 1]``; the upper bound of the
    range falls in the last interval.
    """
    n_knots = knots.shape[1]
    grid_size = n_knots - 2 * spline_order - 1
    # searchsorted wants the sorted dimension last and batch dims leading.
    index = torch.searchsorted(knots.contiguous(), x.T.contiguous(), right=True).T - 1
    return index.clamp(spline_order, spline_order + grid_size - 1)
