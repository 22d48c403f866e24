"""Memory-lean spline contraction of a KAN layer with a hand-written backward.

The spline part of a layer's output is ``sum_i sum_m B_m(x_i) C[i, m, :]``
with ``C`` the scaled coefficients flattened to a matrix of shape
``(in * n_basis, out)``. Only ``k + 1`` basis values per input are non-zero.
:class:`_SplineContraction` evaluates them locally (see
:mod:`~skkan._engine.local_bspline`), scatters them into a dense basis block
of a bounded number of rows and multiplies it with ``C``, so the work is one
BLAS product per chunk. Between forward and backward only the ``k + 1``
local basis values, the ``k`` values of order ``k - 1`` (for the input
gradient) and the ``k + 1`` column indices per input are kept, never the dense basis:
the dense block is rebuilt chunk by chunk in the backward, so the memory
held does not depend on the grid size, and the transient memory is capped by
:data:`CHUNK_BUDGET_BYTES`. (Keeping the local values was measured faster
than re-evaluating the basis in the backward, at a similar memory cost.)

Scattering into a dense block and using one matrix product was measured
faster on CPU than gathering the ``k + 1`` coefficient rows per input and
contracting them (``coef_matrix[columns]`` with a batched product, and
``index_add_`` for the coefficient gradient), even for layers with a single
output; and faster than writing each edge as a polynomial per knot interval,
whose ``grid_size * (k + 1)`` rows per input make the block too large.
"""

import torch

from .bspline import clamp_to_grid
from .kernel import compiled_layer_output, use_compiled_kernel
from .local_bspline import local_dense_basis, local_interval, local_values

__all__ = [
    "spline_contraction",
    "fused_spline_contraction",
    "fast_layer_output",
    "coefficient_matrix",
    "CHUNK_BUDGET_BYTES",
]

#: Bytes of the dense basis block (or of its gradient) per chunk; the local
#: recursion's temporaries of a chunk are held to the same budget. 8 MiB keeps
#: the wide benchmark's training memory below the equal-size MLP's at no
#: measurable cost in speed.
CHUNK_BUDGET_BYTES = 8 * 2**20


def _chunk_rows(n_columns, itemsize, budget=None):
    budget = CHUNK_BUDGET_BYTES if budget is None else budget
    return max(1, budget // max(1, n_columns * itemsize))


def _columns(start, spline_order, n_basis):
    """Columns ``i * n_basis + start + r`` of the non-zero basis values, shape (rows, (k + 1) * in).

    Entry ``r * in + i`` of a row belongs to basis value ``r`` of input ``i``,
    the layout of :func:`~skkan._engine.local_bspline.local_basis`.
    """
    rows, n_features = start.shape
    first = start + torch.arange(0, n_features * n_basis, n_basis, device=start.device)
    # Adding scalars and stacking is cheaper on CPU than a broadcast add.
    return torch.stack([first + r for r in range(spline_order + 1)], dim=1).reshape(rows, -1)


def _product(a, b):
    """``a @ b``; as ``(b.T @ a.T).T`` on CPU when ``b`` has few columns.

    With a tall ``a`` and 2 to 16 columns in ``b``, CPU BLAS was measured
    three to four times faster in the transposed orientation.
    """
    if a.device.type == "cpu" and 2 <= b.shape[1] <= 16:
        return (b.T @ a.T).T
    return a @ b


def _derivative_matrix(coef_matrix, knots, spline_order):
    """Coefficients of the derivative splines, shape (in * (n_basis - 1), out).

    ``S'(x) = sum_m B_{m, k-1}(x) k (C_m - C_{m-1}) / (t_{m+k} - t_m)``; row
    ``i * (n_basis - 1) + m - 1`` holds the term of ``B_{m, k-1}``.
    """
    n_features = knots.shape[0]
    n_basis = knots.shape[1] - spline_order - 1
    coef = coef_matrix.reshape(n_features, n_basis, -1)
    spans = knots[:, spline_order + 1 : spline_order + n_basis] - knots[:, 1:n_basis]
    derivative = spline_order * (coef[:, 1:] - coef[:, :-1]) / spans.unsqueeze(-1)
    return derivative.reshape(-1, coef.shape[2])


def _dense_block(columns, values, n_columns):
    """Scatter local basis values into a dense (rows, in * n_basis) block."""
    block = values.new_zeros(values.shape[0], n_columns)
    return block.scatter_(1, columns, values.reshape(values.shape[0], -1))


class _SplineContraction(torch.autograd.Function):
    """``y = dense_basis(x) @ coef_matrix`` without storing the dense basis.

    ``x`` must already be clamped to the grid (autograd then handles the
    clamp's derivative). The forward keeps the ``k + 1`` local basis values
    per input, and when the input needs a gradient the ``k`` values of order
    ``k - 1``; neither depends on the grid size. The dense block is rebuilt
    chunk by chunk in the backward. The input gradient uses that the
    derivative of a spline is a spline of order ``k - 1`` whose coefficients
    are scaled differences of the original ones (:func:`_derivative_matrix`).
    """

    @staticmethod
    def forward(ctx, x, coef_matrix, knots, spline_order):
        need_x = x.requires_grad
        n_basis = knots.shape[1] - spline_order - 1
        n_rows, n_features = x.shape
        n_columns = coef_matrix.shape[0]
        # The chunk bounds both the dense block and the temporaries of the
        # local recursion (about 8k + 16 numbers per input).
        rows = min(
            _chunk_rows(n_columns, x.element_size()),
            _chunk_rows(n_features * (8 * spline_order + 16), x.element_size()),
        )
        columns = torch.empty(n_rows, (spline_order + 1) * n_features, dtype=torch.long, device=x.device)
        values = x.new_empty(n_rows, spline_order + 1, n_features)
        lower = x.new_empty(n_rows, spline_order, n_features) if need_x else None
        out = x.new_empty(n_rows, coef_matrix.shape[1])
        for first in range(0, n_rows, rows):
            last = first + rows
            chunk = x[first:last]
            chunk_start = local_interval(chunk, knots, spline_order) - spline_order
            local = local_values(chunk, knots, chunk_start + spline_order, spline_order, with_lower_order=need_x)
            columns[first:last] = _columns(chunk_start, spline_order, n_basis)
            values[first:last] = local[0]
            if need_x:
                lower[first:last] = local[1]
            block = _dense_block(columns[first:last], local[0], n_columns)
            del local
            out[first:last] = _product(block, coef_matrix)
        # Keeping the columns costs k + 1 integers per input and saves
        # rebuilding them in the backward.
        ctx.save_for_backward(columns, values, lower, coef_matrix, knots)
        ctx.spline_order, ctx.n_basis = spline_order, n_basis
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        all_columns, values, lower, coef_matrix, knots = ctx.saved_tensors
        need_x, need_coef = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        n_rows, n_features = values.shape[0], values.shape[2]
        grad_x = values.new_empty(n_rows, n_features) if need_x else None
        grad_coef = None
        n_columns = coef_matrix.shape[0]
        rows = _chunk_rows(n_columns, values.element_size())
        if need_x and ctx.spline_order > 0:
            derivative_matrix = _derivative_matrix(coef_matrix, knots, ctx.spline_order)
            feature_shift = torch.arange(n_features, device=values.device).repeat(ctx.spline_order)
        for first in range(0, n_rows, rows):
            last = first + rows
            grad_chunk = grad_output[first:last]
            columns = all_columns[first:last]
            if need_coef:
                block = _dense_block(columns, values[first:last], n_columns)
                if grad_coef is None:
                    grad_coef = _product(block.T, grad_chunk)
                else:
                    grad_coef += _product(block.T, grad_chunk)
                del block
            if need_x and ctx.spline_order == 0:  # piecewise constant splines
                grad_x[first:last] = 0.0
            elif need_x:
                chunk_lower = lower[first:last]
                grad_block = grad_chunk @ derivative_matrix.T  # (rows, in * (n_basis - 1))
                # i * (n_basis - 1) + start + s = (column of value s) - i
                lower_columns = columns[:, : ctx.spline_order * n_features] - feature_shift
                picked = torch.gather(grad_block, 1, lower_columns).reshape(chunk_lower.shape)
                grad_x[first:last] = (picked * chunk_lower).sum(1)
        if need_coef and grad_coef is None:  # no rows
            grad_coef = torch.zeros_like(coef_matrix)
        return grad_x, grad_coef, None, None


def spline_contraction(x, coef_matrix, knots, spline_order):
    """Spline output of a layer, ``dense_basis(x) @ coef_matrix``, memory-lean.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, in_features)
    coef_matrix : torch.Tensor of shape (in_features * n_basis, out_features)
        Scaled coefficients, row ``i * n_basis + m`` for basis ``m`` of input ``i``.
    knots : torch.Tensor of shape (in_features, n_basis + spline_order + 1)
    spline_order : int

    Returns
    -------
    torch.Tensor of shape (batch, out_features)
        Differentiable with respect to ``x`` and ``coef_matrix`` (first
        order only).
    """
    clamped = clamp_to_grid(x, knots, spline_order)
    return _SplineContraction.apply(clamped, coef_matrix, knots, spline_order)


def _triton_available():
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return True


def _dense_contraction(x, coef_matrix, knots, spline_order):
    # Plain autograd version, for torch.compile to fuse on the GPU.
    return local_dense_basis(x, knots, spline_order).flatten(1) @ coef_matrix


# "state" False: compilation unavailable or failed, use the eager fallback.
_COMPILED = {}


def fused_spline_contraction(x, coef_matrix, knots, spline_order):
    """:func:`spline_contraction`, fused by ``torch.compile`` on CUDA when Triton is present.

    On the CPU, or when Triton is missing or compiling the forward fails,
    this is :func:`spline_contraction`. The CUDA branch has not been run on a GPU
    yet; its plain-autograd graph keeps the dense basis for the backward, so
    its memory grows with the grid size.
    """
    if x.is_cuda and _COMPILED.get("state", None) is not False:
        if "fn" not in _COMPILED:
            if not _triton_available():
                _COMPILED["state"] = False
                return spline_contraction(x, coef_matrix, knots, spline_order)
            _COMPILED["fn"] = torch.compile(_dense_contraction, dynamic=True)
        try:
            return _COMPILED["fn"](x, coef_matrix, knots, spline_order)
        except Exception:
            _COMPILED["state"] = False
    return spline_contraction(x, coef_matrix, knots, spline_order)


def fast_layer_output(x, spline_coef, spline_weight, base_weight, mask, bias, knots, spline_order):
    """Output of a KAN layer, ``bias + silu(x) @ (base_weight * mask) + dense_basis(x) @ C``.

    ``C`` is the coefficient matrix of :func:`coefficient_matrix`. Runs on
    the compiled CPU kernel when
    :func:`~skkan._engine.kernel.use_compiled_kernel` selects it (CPU
    float tensor, numba present, kernel mode ``"auto"`` or ``"compiled"``),
    else on the eager torch path (:func:`fused_spline_contraction` for the
    splines). See :mod:`~skkan._engine.kernel` for the switch.
    """
    if use_compiled_kernel(x):
        return compiled_layer_output(x, spline_coef, spline_weight, base_weight, mask, bias, knots, spline_order)
    base = torch.nn.functional.silu(x) @ (base_weight * mask)
    spline = fused_spline_contraction(x, coefficient_matrix(spline_coef, spline_weight, mask), knots, spline_order)
    return base + spline + bias


def coefficient_matrix(spline_coef, spline_weight, mask):
    """Scaled coefficients as a matrix of shape (in * n_basis, out), row ``i * n_basis + m`` for basis ``m`` of ``i``.

    Parameters
    ----------
    spline_coef : torch.Tensor of shape (in_features, out_features, n_basis)
    spline_weight, mask : torch.Tensor of shape (in_features, out_features)

    Returns
    -------
    torch.Tensor
        ``spline_coef * (spline_weight * mask)[..., None]``, transposed to (in, n_basis, out) and flattened.
    """
    coef = spline_coef * (spline_weight * mask).unsqueeze(-1)
    return coef.transpose(1, 2).reshape(-1, spline_coef.shape[1])
