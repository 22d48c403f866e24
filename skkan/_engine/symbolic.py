"""Symbolic edge functions: affine fits of candidates, and the symbolic edges of a layer.

An edge of a KAN layer can be *snapped* to a closed-form function: it then
computes ``c * f(a * x + b) + d`` for a function ``f`` of the candidate
table (:data:`~skkan._engine.symbolic_library.SYMBOLIC_FUNCTIONS`) and four
fitted numbers ``(a, b, c, d)``. This module holds the torch side of that
idea (no sympy): the least-squares affine fit that ranks candidates, the
canonical form of a fit (the form a formula prints, so that an edge's name
and the formula agree), and the :class:`SymbolicEdges` module a layer adds
to its spline output.
"""

import math
from dataclasses import dataclass

import torch
from torch import nn

from .optimizers import LBFGS
from .symbolic_library import SYMBOLIC_FUNCTIONS, function_index, function_names

__all__ = [
    "SYMBOLIC_FUNCTIONS",
    "SymbolicEdges",
    "SymbolicFit",
    "canonical_form",
    "canonicalize_network",
    "fit_affine",
    "rank_symbolic",
    "snap_edge",
]

_EXP_MAX = 40.0
# Rows of the grid search of :func:`fit_affine` (a start for its polish).
_GRID_ROWS = 128
# Candidates whose grid-search fit is this many decades of unexplained
# variance behind the best one are ranked without polishing.
_POLISH_DECADES = 3.0


@dataclass
class SymbolicFit:
    """Best affine fit ``c * f(a * x + b) + d`` of one candidate function."""

    name: str
    r2: float
    a: float
    b: float
    c: float
    d: float
    complexity: int

    @property
    def params(self):
        """The four numbers ``(a, b, c, d)``."""
        return (self.a, self.b, self.c, self.d)


def _linear_fit(z, y, weights):
    """Weighted least squares ``y ~ c * z + d`` along the last axis; returns ``c, d, r2``."""
    z_mean = (z * weights).sum(-1, keepdim=True)
    y_mean = (y * weights).sum()
    zc, yc = z - z_mean, y - y_mean
    var_z = (zc.square() * weights).sum(-1)
    var_y = (yc.square() * weights).sum()
    cov = (zc * yc * weights).sum(-1)
    ok = (var_z > 1e-14 * (1 + z_mean.squeeze(-1).square())) & torch.isfinite(var_z)
    c = torch.where(ok, cov / torch.where(ok, var_z, torch.ones_like(var_z)), torch.zeros_like(cov))
    d = y_mean - c * z_mean.squeeze(-1)
    r2 = torch.where(ok, cov.square() / (torch.where(ok, var_z, torch.ones_like(var_z)) * var_y), torch.zeros_like(cov))
    return c, d, torch.nan_to_num(r2, nan=0.0).clamp(max=1.0)


def _polish(function, x, y, weights, start):
    """A few L-BFGS steps on the weighted squared error of all four numbers."""
    params = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimizer = LBFGS(
        [params], lr=1.0, max_iter=30, line_search_fn="strong_wolfe", tolerance_grad=1e-15, tolerance_change=1e-15
    )

    def closure():
        optimizer.zero_grad()
        a, b, c, d = params
        loss = (weights * (c * function(a * x + b) + d - y).square()).sum()
        loss.backward()
        return loss

    try:
        optimizer.step(closure)
    except RuntimeError:
        return start
    values = params.detach()
    return tuple(float(v) for v in values) if torch.isfinite(values).all() else start


def _canonical_periodic(name, a, b, c, d):
    """``sin`` or ``cos`` with ``a > 0`` and the smallest phase, ``|b| <= pi/4``.

    ``cos(u) = sin(u + pi/2)`` and ``sin(u + pi) = -sin(u)``: of the four
    equivalent forms the one with the smallest phase is what a formula
    simplifies to (``cos(pi*x - pi/2)`` prints as ``sin(pi*x)``), so the
    edge's name is chosen to match it.
    """
    if a < 0:
        # sin(-u) = -sin(u), cos(-u) = cos(u)
        a, b, c = -a, -b, (-c if name == "sin" else c)
    phase = b + (math.pi / 2 if name == "cos" else 0.0)
    quarters = round(phase / (math.pi / 2))
    rest = phase - quarters * math.pi / 2
    turn = quarters % 4
    # sin(u + k*pi/2) is sin(u), cos(u), -sin(u), -cos(u) for k = 0, 1, 2, 3.
    return ("sin" if turn % 2 == 0 else "cos"), a, rest, (c if turn < 2 else -c), d


def canonical_form(name, a, b, c, d):
    """The same function with redundant scale moved out of ``a`` and ``b``; returns ``name, a, b, c, d``.

    ``c * (a*x + b)^n`` equals ``c*a^n * (x + b/a)^n``, ``exp(a*x + b)``
    equals ``e^b * exp(a*x)``, and so on: the equivalent form with ``a = 1``
    (or ``b = 0``) is better conditioned for fine-tuning and reads cleaner.
    A sine or cosine may change name (see :func:`_canonical_periodic`).
    """
    if a == 0:
        return name, a, b, c, d
    if name in ("sin", "cos"):
        return _canonical_periodic(name, a, b, c, d)
    return (name, *_canonical_scale(name, a, b, c, d))


def _canonical_scale(name, a, b, c, d):
    powers = {"x": 1, "x^2": 2, "x^3": 3, "x^4": 4, "1/x": -1}
    if name in powers:
        return 1.0, b / a, c * a ** powers[name], d
    if name == "exp" and abs(b) < _EXP_MAX:
        return a, 0.0, c * math.exp(b), d
    if name == "abs":
        return 1.0, b / a, c * abs(a), d
    if name in ("sqrt", "log"):
        scale = abs(a)
        c_new, d_new = (c * math.sqrt(scale), d) if name == "sqrt" else (c, d + c * math.log(scale))
        return math.copysign(1.0, a), b / scale, c_new, d_new
    return a, b, c, d


def fit_affine(
    name,
    x,
    y,
    weights=None,
    *,
    a_range=(-10.0, 10.0),
    b_range=(-10.0, 10.0),
    grid=31,
    n_refine=3,
    polish=True,
    start=None,
):
    """Fit ``y ~ c * f(a * x + b) + d`` for the library function ``name``.

    ``(a, b)`` are found by a grid search refined around the best point
    (``c, d`` by weighted least squares at each point), then all four are
    polished with L-BFGS.

    Parameters
    ----------
    name : str
        Key of :data:`SYMBOLIC_FUNCTIONS`. The fit returned may name an
        equivalent function (``sin`` for ``cos`` with a quarter-turn
        phase, see :func:`canonical_form`).
    x, y : torch.Tensor of shape (n_samples,)
        Edge inputs and edge outputs.
    weights : torch.Tensor of shape (n_samples,), optional
        Non-negative sample weights.
    a_range, b_range : tuple of float
        Initial search ranges of ``a`` and ``b``.
    grid : int
        Grid points per axis and search round.
    n_refine : int
        Number of zoomed-in search rounds after the first.
    polish : bool
        Whether to polish the four numbers with L-BFGS (else ``c, d`` are
        the least-squares ones at the grid's best ``a, b``).
    start : tuple of float, optional
        ``(a, b, c, d)`` to polish from, instead of a grid search.

    Returns
    -------
    SymbolicFit
    """
    function = SYMBOLIC_FUNCTIONS[name].torch_fn
    x = x.detach().to(torch.float64).reshape(-1)
    y = y.detach().to(torch.float64).reshape(-1)
    weights = torch.ones_like(x) if weights is None else weights.detach().to(torch.float64).reshape(-1)
    weights = weights / weights.sum()
    if start is None:
        start = _grid_search(function, x, y, weights, a_range, b_range, grid, n_refine)
    a, b, c, d = _polish(function, x, y, weights, start) if polish else start
    name, a, b, c, d = canonical_form(name, a, b, c, d)
    function = SYMBOLIC_FUNCTIONS[name].torch_fn
    with torch.no_grad():
        residual = (weights * (c * function(a * x + b) + d - y).square()).sum()
        total = (weights * (y - (weights * y).sum()).square()).sum()
        r2 = float(1.0 - residual / total) if total > 0 else 0.0
    if not math.isfinite(r2):
        r2 = -math.inf
    return SymbolicFit(name, r2, a, b, c, d, SYMBOLIC_FUNCTIONS[name].complexity)


def _grid_search(function, x, y, weights, a_range, b_range, grid, n_refine):
    """Start ``(a, b, c, d)`` of :func:`fit_affine`: refined grid over ``a, b``, least squares for ``c, d``."""
    a_low, a_high = a_range
    b_low, b_high = b_range
    best = (1.0, 0.0)
    # The grid search only finds a start for the polish below: every few
    # rows suffice for it, and its cost is linear in rows.
    stride = max(1, x.shape[0] // _GRID_ROWS)
    x_grid, y_grid, weights_grid = x[::stride], y[::stride], weights[::stride]
    weights_grid = weights_grid / weights_grid.sum()
    for _ in range(n_refine + 1):
        a_values = torch.linspace(a_low, a_high, grid, dtype=torch.float64)
        b_values = torch.linspace(b_low, b_high, grid, dtype=torch.float64)
        with torch.no_grad():
            z = function(a_values[:, None, None] * x_grid + b_values[None, :, None])
            z = torch.where(torch.isfinite(z), z, torch.zeros_like(z))
            _, _, r2 = _linear_fit(z, y_grid, weights_grid)
        index = int(torch.argmax(r2))
        best = (float(a_values[index // grid]), float(b_values[index % grid]))
        a_step, b_step = (a_high - a_low) / (grid - 1), (b_high - b_low) / (grid - 1)
        a_low, a_high = best[0] - a_step, best[0] + a_step
        b_low, b_high = best[1] - b_step, best[1] + b_step
    a, b = best
    with torch.no_grad():
        c, d, _ = _linear_fit(function(a * x + b)[None], y, weights)
    return a, b, float(c[0]), float(d[0])


def rank_symbolic(x, y, weights=None, library=None, simplicity_weight=0.2):
    """Fit every candidate and sort them, best first.

    Let ``q = log10(1 - R²)`` (decades of unexplained variance) and
    ``q_best`` the lowest over the candidates. Candidates within one decade
    of the best count as tied (a spline only approximates the true function,
    and e.g. ``cos(a * x)`` with a tiny ``a`` mimics ``x^2``), so the score
    is ``max(q, q_best + 1) + simplicity_weight * complexity`` (lower is
    better): among near-ties the simplest function wins, while a clearly
    better fit beats a simpler one.

    Returns
    -------
    list of SymbolicFit
    """
    names = list(SYMBOLIC_FUNCTIONS) if library is None else list(library)
    unknown = [name for name in names if name not in SYMBOLIC_FUNCTIONS]
    if unknown:
        raise ValueError(f"Unknown symbolic functions {unknown}; choose from {list(SYMBOLIC_FUNCTIONS)}.")

    def decades(fit):
        return math.log10(min(max(1.0 - fit.r2, 1e-12), 1e12))

    # Polishing costs most of a fit: only candidates whose grid-search fit
    # is within a few decades of the best one's can still win.
    fits = [fit_affine(name, x, y, weights, polish=False) for name in names]
    best = min(decades(fit) for fit in fits)
    fits = [
        fit_affine(fit.name, x, y, weights, start=fit.params) if decades(fit) <= best + _POLISH_DECADES else fit
        for fit in fits
    ]
    best = min(decades(fit) for fit in fits)
    ranked = sorted(fits, key=lambda fit: (max(decades(fit), best + 1.0) + simplicity_weight * fit.complexity, -fit.r2))
    # ``sin`` and ``cos`` fits may fold to the same canonical function: keep the better.
    unique = {}
    for fit in ranked:
        unique.setdefault(fit.name, fit)
    return list(unique.values())


class SymbolicEdges(nn.Module):
    """The symbolic edges of one layer: ``c_ij * f_ij(a_ij * x_i + b_ij) + d_ij``.

    All state is in the module's state dict: a 0/1 ``mask`` buffer of the
    snapped edges, a ``function_index`` buffer (position of ``f_ij`` in
    :data:`SYMBOLIC_FUNCTIONS`, -1 for none) and the affine numbers as a
    trainable ``affine`` parameter of shape (in, out, 4), so that
    fine-tuning after snapping adjusts them.
    """

    def __init__(self, in_features, out_features, dtype=torch.float32):
        super().__init__()
        self.register_buffer("mask", torch.zeros(in_features, out_features, dtype=dtype))
        self.register_buffer("function_index", torch.full((in_features, out_features), -1, dtype=torch.long))
        identity = torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=dtype)
        self.affine = nn.Parameter(identity.repeat(in_features, out_features, 1))

    @property
    def names(self):
        """Function name of every edge (``names[i][j]``, None for a spline edge)."""
        library = function_names()
        return [[library[k] if k >= 0 else None for k in row] for row in self.function_index.tolist()]

    def set_edge(self, i, j, name, params):
        """Snap edge ``(i, j)`` to ``name`` with ``params = (a, b, c, d)``; ``name=None`` removes it."""
        with torch.no_grad():
            if name is None:
                self.mask[i, j] = 0.0
                self.function_index[i, j] = -1
                return
            index = function_index(name)
            self.mask[i, j] = 1.0
            self.function_index[i, j] = index
            self.affine[i, j] = torch.as_tensor(params, dtype=self.affine.dtype)

    def edge_values(self, x, affine=None, groups=None):
        """Values of the symbolic edges, shape (batch, in, out); zero elsewhere.

        ``affine`` replaces the module's numbers (same shape), for functional
        transforms that differentiate with respect to them; ``groups`` is
        :meth:`edge_groups`, if already computed.
        """
        affine = self.affine if affine is None else affine
        values = x.new_zeros(x.shape[0], *self.mask.shape)
        for function, rows, cols in self.edge_groups() if groups is None else groups:
            a, b, c, d = affine[rows, cols].unbind(-1)
            values[:, rows, cols] = c * function(x[:, rows] * a + b) + d
        return values

    def edge_groups(self):
        """The snapped edges grouped by function: a list of ``(torch_fn, rows, cols)``.

        One vectorised evaluation per library function in use; callers that
        evaluate the same edges many times (polishing) compute this once.
        """
        active = (self.mask != 0) & (self.function_index >= 0)
        groups = []
        for k in torch.unique(self.function_index[active]).tolist():
            rows, cols = (active & (self.function_index == k)).nonzero(as_tuple=True)
            groups.append((SYMBOLIC_FUNCTIONS[function_names()[k]].torch_fn, rows, cols))
        return groups

    def forward(self, x):
        """Sum of the symbolic edges at every output node, shape (batch, out)."""
        return self.edge_values(x).sum(dim=1)

    def canonicalize(self):
        """Rewrite every snapped edge in its canonical form (see :func:`canonical_form`).

        Fine-tuning moves the affine numbers freely (a sine's phase may drift
        past a quarter turn); this restores the form whose name a formula prints.
        """
        names = self.names
        for i, j in (self.mask != 0).nonzero().tolist():
            values = [float(v) for v in self.affine[i, j].detach()]
            name, *params = canonical_form(names[i][j], *values)
            self.set_edge(i, j, name, params)

    def n_active(self):
        """Number of snapped edges."""
        return int(self.mask.count_nonzero())


def snap_edge(layer, i, j, fit):
    """Replace the spline of edge ``(i, j)`` of ``layer`` by the symbolic ``fit``."""
    if layer.symbolic is None:
        layer.symbolic = SymbolicEdges(layer.in_features, layer.out_features, dtype=layer.mask.dtype).to(
            layer.mask.device
        )
    layer.symbolic.set_edge(i, j, fit.name, fit.params)
    with torch.no_grad():
        layer.mask[i, j] = 0.0


def canonicalize_network(network):
    """Rewrite every snapped edge of ``network`` in its canonical form (see :meth:`SymbolicEdges.canonicalize`)."""
    for layer in network.layers:
        if layer.symbolic is not None:
            layer.symbolic.canonicalize()
