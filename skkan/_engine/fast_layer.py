"""Memory-lean spline contraction of a KAN layer with a hand-written backward.

The spline part of a layer's output is ``sum_i sum_m B_m(x_i) C[i, m, :]``
with ``C`` the scaled coefficients flattened to a matrix of shape
``(in * n_basis, out)``. Only ``k + 1`` basis values per input are non-zero.
:class:`_SplineContraction` evaluates them locally (see
:mod:`~skkan._engine.local_bspline`), scatters them into a dense basis block
of a bounded number of rows and multiplies it with ``C``, so the work is one
BLAS product per chunk. Only the inputs are kept for the backward pass: the
local basis is recomputed there, chunk by chunk, so the memory held between
forward and backward does not depend on the grid size, and the transient
memory is capped by :data:`CHUNK_BUDGET_BYTES`.

Scattering into a dense block and using one matrix product was measured
faster on CPU than gathering the ``k + 1`` coefficient slices per sample
(a ``(batch, in, k + 1, out)`` gather is memory bound and ``k + 1`` times
larger than the output).
"""

import torch

from .local_bspline import clamp_derivative, local_basis

__all__ = ["spline_contraction", "fused_spline_contraction", "CHUNK_BUDGET_BYTES"]

#: Bytes of the dense basis block (and of its gradient) per chunk.
CHUNK_BUDGET_BYTES = 16 * 2**20


def _chunk_rows(n_columns, itemsize, budget=None):
    budget = CHUNK_BUDGET_BYTES if budget is None else budget
    return max(1, budget // max(1, n_columns * itemsize))


def _dense_block(x, knots, spline_order, with_derivative=False):
    """Dense basis block (rows, in * n_basis) and, optionally, local derivatives."""
    n_basis = knots.shape[1] - spline_order - 1
    local = local_basis(x, knots, spline_order, with_derivative=with_derivative)
    start, values = local[0], local[1]
    columns = start + torch.arange(x.shape[1], device=x.device).unsqueeze(0) * n_basis
    columns = columns.unsqueeze(-1) + torch.arange(spline_order + 1, device=x.device)
    block = x.new_zeros(x.shape[0], x.shape[1] * n_basis)
    block.scatter_(1, columns.reshape(x.shape[0], -1), values.reshape(x.shape[0], -1))
    if with_derivative:
        return block, columns, local[2]
    return block


class _SplineContraction(torch.autograd.Function):
    """``y = dense_basis(x) @ coef_matrix`` without storing the basis."""

    @staticmethod
    def forward(ctx, x, coef_matrix, knots, spline_order):
        ctx.save_for_backward(x, coef_matrix, knots)
        ctx.spline_order = spline_order
        rows = _chunk_rows(coef_matrix.shape[0], x.element_size())
        if x.shape[0] <= rows:
            return _dense_block(x, knots, spline_order) @ coef_matrix
        out = x.new_empty(x.shape[0], coef_matrix.shape[1])
        for first in range(0, x.shape[0], rows):
            chunk = x[first : first + rows]
            torch.matmul(_dense_block(chunk, knots, spline_order), coef_matrix, out=out[first : first + rows])
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        x, coef_matrix, knots = ctx.saved_tensors
        spline_order = ctx.spline_order
        need_x, need_coef = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        grad_x = torch.empty_like(x) if need_x else None
        grad_coef = torch.zeros_like(coef_matrix) if need_coef else None
        # The gradient block doubles the transient memory: halve the rows.
        rows = _chunk_rows(coef_matrix.shape[0], x.element_size()) // (2 if need_x else 1)
        rows = max(1, rows)
        for first in range(0, x.shape[0], rows):
            chunk = x[first : first + rows]
            grad_chunk = grad_output[first : first + rows]
            if need_x:
                block, columns, derivatives = _dense_block(chunk, knots, spline_order, with_derivative=True)
            else:
                block = _dense_block(chunk, knots, spline_order)
            if need_coef:
                grad_coef.addmm_(block.T, grad_chunk)
            if need_x:
                del block
                grad_block = grad_chunk @ coef_matrix.T  # (rows, in * n_basis)
                picked = torch.gather(grad_block, 1, columns.reshape(chunk.shape[0], -1))
                picked = picked.reshape(derivatives.shape)
                slope = (picked * derivatives).sum(-1)
                grad_x[first : first + rows] = slope * clamp_derivative(chunk, knots, spline_order)
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
    return _SplineContraction.apply(x, coef_matrix, knots, spline_order)


def _triton_available():
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return True


def _dense_contraction(x, coef_matrix, knots, spline_order):
    # Plain autograd version, for torch.compile to fuse on the GPU.
    from .local_bspline import local_dense_basis

    return local_dense_basis(x, knots, spline_order).reshape(x.shape[0], -1) @ coef_matrix


# "state" False: compilation unavailable or failed, use the eager fallback.
_COMPILED = {}


def fused_spline_contraction(x, coef_matrix, knots, spline_order):
    """:func:`spline_contraction`, fused by ``torch.compile`` on CUDA when Triton is present.

    On the CPU, or when compilation is unavailable or fails, this is
    :func:`spline_contraction`. The CUDA branch has not been measured on a
    GPU yet.
    """
    if x.is_cuda and _COMPILED.get("state", None) is not False:
        if "fn" not in _COMPILED:
            if not _triton_available():
                _COMPILED["state"] = False
                return spline_contraction(x, coef_matrix, knots, spline_order)
            _COMPILED["fn"] = torch.compile(_dense_contraction, dynamic=True)
        try:
            return _COMPILED["fn"](x, coef_matrix, knots, spline_order)
        except Exception:  # noqa: BLE001 - any compiler failure falls back to the eager path
            _COMPILED["state"] = False
    return spline_contraction(x, coef_matrix, knots, spline_order)
