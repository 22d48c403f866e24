"""Grid operations: adapt knots to the data and refine grids, keeping the learned functions.

Two operations from the KAN paper live here:

* **grid update** places a layer's knots at (weighted) quantiles of the
  inputs it sees, mixed with a uniform grid, so that the resolution of every
  spline follows the data density;
* **grid extension** moves to a finer grid (more intervals).

Both replace the knot vector and then refit the spline coefficients by
least squares so that every edge function keeps its shape. The refit
assembles the banded normal equations from the ``spline_order + 1``
non-zero basis values of each point, on a bounded subsample, so its cost
does not grow with the data set or with the square of the grid size.
"""

import torch
from torch import nn

from .bspline import extend_knots
from .local_bspline import local_basis

__all__ = ["adaptive_grid_points", "set_layer_grid"]

# Relative width under which a feature's range is treated as constant.
_MIN_RANGE = 1e-6
# Relative margin added on each side of the data range.
_RANGE_MARGIN = 0.01
# Ridge penalty of the coefficient refit, relative to the mean diagonal of
# the normal equations: keeps the system well posed where data is sparse.
_RIDGE = 1e-8
# Total weight of the uniform sweep points in a refit, against 1 for the data.
_SWEEP_MASS = 0.1
# Data points a coefficient refit uses at most: a few thousand points pin
# down splines with tens of coefficients per edge, and the sweep covers the
# gaps between them.
_REFIT_ROWS = 4096


def _weighted_quantiles(x, weights, levels):
    """Inverted-CDF quantiles of each column of ``x``.

    A sample of weight ``w`` counts as ``w`` repeated samples, so integer
    weights give exactly the quantiles of the repeated data.
    """
    order = torch.argsort(x, dim=0)
    sorted_x = torch.gather(x, 0, order)
    # A float32 running sum loses small weights behind large partial sums
    # (and the mass targets then miss the last index); float64 does not.
    cumulative = torch.cumsum(weights.to(torch.float64)[order], dim=0)
    total = cumulative[-1:]
    targets = levels.to(torch.float64)[:, None] * total
    # first index whose cumulative weight reaches the target mass
    index = torch.searchsorted(cumulative.T.contiguous(), targets.T.contiguous(), right=False).T
    index = index.clamp(0, x.shape[0] - 1)
    return torch.gather(sorted_x, 0, index)


def adaptive_grid_points(x, weights, grid_size, grid_eps):
    """Grid points mixing data quantiles with a uniform grid.

    Parameters
    ----------
    x : torch.Tensor of shape (n_samples, n_features)
        Inputs of the layer.
    weights : torch.Tensor of shape (n_samples,)
        Non-negative sample weights (zero-weight samples are ignored).
    grid_size : int
        Number of intervals.
    grid_eps : float
        0 gives a purely quantile-based grid, 1 a uniform one.

    Returns
    -------
    grid_points : torch.Tensor of shape (n_features, grid_size + 1)
        Strictly increasing points spanning the weighted data range.
    """
    keep = weights > 0
    x, weights = x[keep], weights[keep]
    low = x.min(dim=0).values
    high = x.max(dim=0).values
    # A constant feature still needs a grid of positive width, and a small
    # margin keeps the extreme samples strictly inside the grid, where the
    # clamp at the grid boundary does not cut their gradient.
    half_width = torch.clamp((high - low) / 2, min=_MIN_RANGE) * (1.0 + _RANGE_MARGIN)
    center = (high + low) / 2
    low, high = center - half_width, center + half_width
    levels = torch.linspace(0.0, 1.0, grid_size + 1, dtype=x.dtype, device=x.device)
    quantiles = _weighted_quantiles(x, weights, levels).T
    quantiles[:, 0], quantiles[:, -1] = low, high
    uniform = low[:, None] + (high - low)[:, None] * levels[None, :]
    # The uniform share keeps the points strictly increasing when quantiles tie.
    grid_eps = max(grid_eps, 1e-3)
    return grid_eps * uniform + (1.0 - grid_eps) * quantiles


def _refit_rows(x, weights):
    """At most ``_REFIT_ROWS`` evenly spaced rows: deterministic, and spread over any ordering."""
    if x.shape[0] <= _REFIT_ROWS:
        return x, weights
    rows = torch.linspace(0, x.shape[0] - 1, _REFIT_ROWS, device=x.device).long()
    return x[rows], weights[rows]


def _normal_equations(points, point_weights, knots, spline_order, old_basis):
    """Normal equations of the B-spline basis on ``knots``, per feature, against the current basis.

    Returns ``B^T W B`` and ``B^T W B_old``, where ``B_old`` (``old_basis``)
    holds the values of the basis the splines are now written in. The
    targets of the refit, the current splines ``B_old @ coef``, are never
    formed: ``B^T W (B_old @ coef) = (B^T W B_old) @ coef``, and the
    (rows, inputs, outputs) tensor of spline values dominated the cost on
    wide layers. Each point touches only its ``spline_order + 1`` non-zero
    basis functions; they are written into one small dense design matrix per
    feature (``n_basis`` columns), and both products are batched matrix
    products over the features. (The former index arithmetic on the local
    form, one index per point, basis pair, feature and output summed with a
    ``bincount``, cost eight to fourteen times more on the CPU.) All
    arguments are float64.

    Returns
    -------
    gram : torch.Tensor of shape (n_features, n_basis, n_basis)
    cross : torch.Tensor of shape (n_features, n_basis, n_old_basis)
    """
    n_features, n_points = points.shape[1], points.shape[0]
    n_basis = knots.shape[1] - spline_order - 1
    start, values = local_basis(points, knots, spline_order)  # (n, f), (n, k + 1, f)
    columns = start.T[:, :, None] + torch.arange(spline_order + 1, device=points.device)  # (f, n, k + 1)
    design = torch.zeros(n_features, n_points, n_basis, dtype=values.dtype, device=points.device)
    design.scatter_(2, columns, values.permute(2, 0, 1))
    weighted_transposed = (design * point_weights[None, :, None]).transpose(1, 2)  # (f, n_basis, n)
    return weighted_transposed @ design, weighted_transposed @ old_basis.transpose(0, 1)


def _refit_coefficients(layer, x, weights, new_knots):
    """Least-squares coefficients on ``new_knots`` reproducing the current splines.

    The fit uses the layer inputs ``x`` (weighted, at most ``_REFIT_ROWS``
    of them) plus a uniform sweep of each feature's new range, so that the
    refit is well posed between data points and the function keeps its
    shape everywhere on the grid. It is solved exactly, in float64.
    """
    x, weights = _refit_rows(x, weights)
    spline_order = layer.spline_order
    n_basis = new_knots.shape[1] - spline_order - 1
    low, high = new_knots[:, spline_order], new_knots[:, -spline_order - 1]
    sweep_fractions = torch.linspace(0, 1, 2 * n_basis + 1, dtype=x.dtype, device=x.device)
    sweep = low[None, :] + (high - low)[None, :] * sweep_fractions[:, None]
    points = torch.cat([x, sweep], dim=0)
    work = torch.float64
    # Data and sweep get fixed total masses, so that a weighted sample and the
    # same sample with repeated rows give the same refit.
    weights = weights.to(work)
    sweep_weights = torch.full((sweep.shape[0],), _SWEEP_MASS / sweep.shape[0], dtype=work, device=x.device)
    point_weights = torch.cat([weights / weights.sum(), sweep_weights])
    with torch.no_grad():
        old_basis = layer.spline_basis(points).to(work)  # (n, in, n_old_basis)
        old_coef = layer.spline_coef.to(work)  # (in, out, n_old_basis)
    gram, cross = _normal_equations(points.to(work), point_weights, new_knots.to(work), spline_order, old_basis)
    rhs = cross @ old_coef.transpose(1, 2)  # (in, n_basis, out): B^T W times the current splines
    ridge = _RIDGE * gram.diagonal(dim1=1, dim2=2).mean(dim=1).clamp(min=1e-12)
    gram = gram + ridge[:, None, None] * torch.eye(n_basis, dtype=work, device=x.device)
    coef = torch.linalg.solve(gram, rhs)  # (in, n_basis, out)
    return coef.transpose(1, 2).to(layer.spline_coef.dtype)


def set_layer_grid(layer, x, weights, grid_size=None, grid_eps=0.02):
    """Adapt a layer's knots to its inputs, optionally changing the grid size.

    Parameters
    ----------
    layer : KANLayer
        The layer to update in place.
    x : torch.Tensor of shape (n_samples, in_features)
        Inputs the layer receives on the training data.
    weights : torch.Tensor of shape (n_samples,)
        Sample weights.
    grid_size : int, optional
        New number of intervals (grid extension); the current one by default.
    grid_eps : float, default=0.02
        Share of the uniform grid in the knot placement.

    Notes
    -----
    When the grid size changes, ``layer.spline_coef`` is replaced by a new
    parameter, so any optimizer holding the old one must be rebuilt.
    """
    if grid_size is None:
        grid_size = layer.grid_size
    if layer.tabular is not None:
        # Knots follow the observed numeric values only (see tabular.py).
        x = layer.tabular.numeric_inputs(x)
    with torch.no_grad():
        points = adaptive_grid_points(x, weights, grid_size, grid_eps)
        new_knots = extend_knots(points, layer.spline_order)
        coef = _refit_coefficients(layer, x, weights, new_knots)
        if coef.shape == layer.spline_coef.shape:
            layer.spline_coef.copy_(coef)
        else:
            layer.spline_coef = nn.Parameter(coef)
        layer.knots = new_knots
