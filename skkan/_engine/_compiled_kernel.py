"""Numba-compiled CPU kernels for a KAN layer: SiLU residual, splines and bias in one pass.

The first call of a kernel for a dtype (float32 or float64) compiles it, or
loads it from numba's on-disk cache; importing this module raises
``ImportError`` when numba is missing, and :mod:`~skkan._engine.kernel` then
keeps the eager torch path.

On each knot interval ``[t_j, t_{j+1})`` an edge's spline is a polynomial of
degree ``k``. Every call first writes, per input and interval, the
power-form coefficients of the ``k + 1`` basis functions non-zero there, in
the local coordinate ``d = x - (t_j + t_{j+1}) / 2`` (the middle, where the
power form is best conditioned): de Boor's triangle run on polynomials
rather than numbers, in float64, so it is exact on any knots (grid refits
make them non-uniform). Contracting them with the coefficient rows gives
each edge's polynomial on each interval (``in * G * (k + 1)`` rows, a few
microseconds). Then, for a block of rows and one input at a time,

1. the interval of every row is the count of interior knots at or below the
   clamped input, and ``d`` follows: loops over the rows without a branch,
   which vectorise, exact on any knots (no bisection, no uniform-grid guess
   to correct);
2. the SiLU residual of every row;
3. per row, one loop over the outputs adds ``silu(x) base[i] + sum_p d^p
   P[p]`` to the output row (fused for the default order 3; a scalar Horner
   sum for a single output): no division, no recursion, no dense basis block.

The backward runs the same two first steps. It accumulates the gradient of
the polynomial coefficients, ``sum_b d_b^p grad_out[b]``, and maps it to the
coefficient gradient once at the end with the basis polynomials; the input
gradient is the derivative polynomial dotted with ``grad_out``.

The kernels take the layer's own parameters: they scale the coefficients
(``spline_coef * spline_weight * mask``) and the residual weights
(``base_weight * mask``) themselves, add the bias in the forward, and return
the gradients of the unscaled parameters and of the bias in the backward. A
layer is then one kernel call forward and one backward, with no torch
operation around them (on small layers those cost more than the kernels).

* The forward runs in parallel over blocks of rows; every output row is
  summed by one thread in a fixed order.
* The backward runs in parallel over chunks of rows whose bounds depend on
  the number of rows only (:func:`_n_chunks`), never on the thread count.
  Each chunk writes the input gradient of its rows and sums its own partial
  gradients (bias included); these are then added up in chunk order. Both gradients are
  therefore bitwise identical run after run, and for any thread count. The
  interval and residual are recomputed in the backward rather than stored:
  the forward keeps nothing but its inputs.

The backward is compiled with LLVM's ``reassoc`` and ``contract`` flags so that
its sums over the output features vectorise: an order fixed at compile time,
deterministic, and within rounding of the sequential sum. The forward gained
nothing from them and is compiled without fast-math flags. Both agree with the
eager path to rounding error (float64 1e-12, float32 1e-5, tested).
"""

# All the kernels' helpers live in this one module, longer than usual: numba's
# on-disk cache of a kernel is keyed on its own source file only, so a helper
# changed in another module would leave stale cached kernels behind.

import contextlib
import hashlib
import os
import tempfile
import threading
import time

import numba
import numpy as np
from numba import prange

__all__ = ["compile_kernels", "layer_forward", "layer_backward", "set_threads"]

# Rows per parallel work item of the forward.
_ROW_BLOCK = 128
# The backward's chunks: at least this many rows each (the per-chunk partial
# gradients are zeroed and summed once per chunk), at most this many chunks,
# and their partial gradients held to a memory budget.
_MIN_CHUNK_ROWS = 256
_MAX_CHUNKS = 64
_PARTIAL_BUDGET_BYTES = 64 * 2**20
# Up to this many intervals the interval of an input is found by counting
# knots (vectorised, cost linear in the grid size); beyond, from a guess.
_MAX_COUNTED_INTERVALS = 16
# Largest share of one input in the backward's partial gradients (bytes)
# summed as the gradient of the polynomial coefficients (see the backward).
_POLYNOMIAL_GRADIENT_BYTES = 16 * 2**10
# Below this many partial numbers, the backward sums its chunks on one thread.
_SERIAL_FINISH_SIZE = 2**16

# LLVM fast-math flags of the backward, fixed at compile time so results stay
# deterministic: sums may be reassociated (so that its sums over the outputs
# vectorise) and multiply-adds fused. The forward gained nothing from either.
_REASSOCIATE = {"reassoc", "contract"}
_OPTIONS = {"nopython": True, "parallel": True, "cache": True, "fastmath": False, "nogil": True}


def _signature(float_type):
    matrix, cube, vector = float_type[:, ::1], float_type[:, :, ::1], float_type[::1]
    return numba.void(matrix, matrix, cube, matrix, matrix, matrix, vector, numba.int64, matrix)


def _backward_signature(float_type):
    matrix, cube, vector = float_type[:, ::1], float_type[:, :, ::1], float_type[::1]
    parameters = (matrix, matrix, cube, matrix, matrix, matrix, numba.int64)
    gradients = (matrix, matrix, cube, matrix, matrix, vector)
    return numba.void(*parameters, *gradients, *(numba.boolean,) * 5)


@numba.njit(inline="always")
def _silu(x):
    """SiLU and its derivative, ``x sigmoid(x)`` and ``s (1 + x (1 - s))``."""
    s = 1.0 / (1.0 + np.exp(-x))
    return x * s, s * (1.0 + x * (1.0 - s))


@numba.njit
def _locate(x, i, first_row, n, knots, spline_order, grid_size, local, index, origin, middles):
    """Interval and local coordinate of the inputs ``x[first_row : first_row + n, i]``, clamped to the grid.

    Writes ``index[b] = (i * G + s) * (k + 1)``, the first polynomial row of
    the interval ``j = k + s`` with ``t[j] <= x < t[j + 1]`` (clamped to
    ``[k, k + G - 1]``), and ``local[b] = x - (t[j] + t[j + 1]) / 2``: the
    power form is best conditioned about the interval's middle. The interval
    is the count of interior knots at or below the input, exact on any knots,
    and every loop runs over the rows without a branch, so that it vectorises;
    above :data:`_MAX_COUNTED_INTERVALS` intervals, it is the interval of a
    uniform grid, moved by single steps while the knots say otherwise (also
    exact on any knots, and without a step on a uniform grid).
    ``origin`` (``n`` numbers) and ``middles`` (``G``) are scratch space.
    """
    for s in range(grid_size):
        middles[s] = (knots[i, spline_order + s] + knots[i, spline_order + s + 1]) * 0.5
    low, high = knots[i, spline_order], knots[i, spline_order + grid_size]
    for b in range(n):
        local[b] = min(max(x[first_row + b, i], low), high)
        index[b] = 0
        origin[b] = middles[0]
    if grid_size <= _MAX_COUNTED_INTERVALS:
        for s in range(1, grid_size):
            knot = knots[i, spline_order + s]
            middle = middles[s]
            for b in range(n):
                above = local[b] >= knot
                index[b] += above
                origin[b] = middle if above else origin[b]
    else:  # many knots: the interval of a uniform grid, corrected by steps on other knots
        inverse_step = grid_size / (high - low)
        for b in range(n):
            s = min(int((local[b] - low) * inverse_step), grid_size - 1)
            while s > 0 and local[b] < knots[i, spline_order + s]:
                s -= 1
            while s < grid_size - 1 and local[b] >= knots[i, spline_order + s + 1]:
                s += 1
            index[b] = s
            origin[b] = middles[s]
    order = spline_order + 1
    for b in range(n):
        local[b] -= origin[b]
        index[b] = (i * grid_size + index[b]) * order


@numba.njit(fastmath=_REASSOCIATE)
def _dot(a, row_a, b, row_b):
    """``sum(a[row_a] * b[row_b])`` in an order that vectorises (fixed at compile time, so deterministic)."""
    total = 0.0
    for o in range(a.shape[1]):
        total += a[row_a, o] * b[row_b, o]
    return total


@numba.njit
def _basis_polynomials(knots, spline_order):
    """Power-form coefficients of the non-zero basis functions on each interval, float64.

    Row ``(i * G + s) * (k + 1) + r``, column ``p`` holds the coefficient of
    ``d ** p`` of ``B_{s + r}(m + d)`` of input ``i`` on its interval
    ``j = k + s`` of middle ``m = (t_j + t_{j+1}) / 2``: de Boor's triangle (the recursion of the eager
    ``local_values``) run with polynomials in ``d`` in place of numbers.
    """
    n_features = knots.shape[0]
    grid_size = knots.shape[1] - 2 * spline_order - 1
    order = spline_order + 1
    result = np.zeros((n_features * grid_size * order, order))
    saved = np.empty(order)
    new = np.empty(order)
    for i in range(n_features):
        t = knots[i].astype(np.float64)
        for s in range(grid_size):
            j = spline_order + s
            # the middle exactly as the kernels round it (a sum in the knots' dtype)
            middle = (knots[i, j] + knots[i, j + 1]) * 0.5
            values = result[(i * grid_size + s) * order : (i * grid_size + s + 1) * order]
            values[0, 0] = 1.0
            for degree in range(1, order):
                saved[:] = 0.0
                for r in range(degree):
                    # (t[j+1+r] - x) term + (x - t[j+1+r-degree]) term with x = middle + d
                    span = t[j + 1 + r] - t[j + 1 + r - degree]
                    right = t[j + 1 + r] - middle
                    left = middle - t[j + 1 + r - degree]
                    new[:] = saved
                    saved[:] = 0.0
                    for p in range(degree + 1):
                        term = values[r, p] / span
                        below = values[r, p - 1] / span if p > 0 else 0.0
                        new[p] += right * term - below
                        saved[p] = left * term + below
                    values[r] = new
                values[degree] = saved
    return result


@numba.njit
def _spline_polynomials(basis_polynomials, coef, n_basis, dtype_like):
    """Power-form coefficients of every edge's spline on each interval, shape (in * G * (k + 1), out).

    Row ``(i * G + s) * (k + 1) + p`` is ``sum_r basis[(i * G + s) * (k + 1) + r, p] coef[i * n_basis + s + r]``,
    summed in float64 and rounded once to the dtype of ``dtype_like``.
    """
    order = basis_polynomials.shape[1]
    n_out = coef.shape[1]
    grid_size = n_basis - order + 1
    n_intervals = basis_polynomials.shape[0] // order
    result = np.empty((basis_polynomials.shape[0], n_out), dtype=dtype_like.dtype)
    row = np.empty(n_out)
    for interval in range(n_intervals):
        i, s = interval // grid_size, interval % grid_size
        first = i * n_basis + s
        for p in range(order):
            row[:] = 0.0
            for r in range(order):
                q = basis_polynomials[interval * order + r, p]
                for o in range(n_out):
                    row[o] += q * coef[first + r, o]
            for o in range(n_out):
                result[interval * order + p, o] = row[o]
    return result


@numba.njit
def _n_chunks(n_rows, partial_size, itemsize):
    """Number of row chunks of the backward: a function of the shapes alone, never of the thread count."""
    by_rows = (n_rows + _MIN_CHUNK_ROWS - 1) // _MIN_CHUNK_ROWS
    by_memory = _PARTIAL_BUDGET_BYTES // max(1, partial_size * itemsize)
    return max(1, min(by_rows, _MAX_CHUNKS, by_memory))


@numba.njit
def _scaled_parameters(spline_coef, spline_weight, base_weight, mask):
    """The layer's coefficient matrix, shape (in * n_basis, out), and residual weights, shape (in, out).

    Row ``i * n_basis + m`` of the coefficient matrix is ``spline_coef[i, :, m] * spline_weight[i] * mask[i]``,
    and the residual weights are ``base_weight * mask``, rounded as the eager path rounds them.
    """
    n_features, n_out, n_basis = spline_coef.shape
    coef = np.empty((n_features * n_basis, n_out), dtype=spline_coef.dtype)
    base = np.empty((n_features, n_out), dtype=spline_coef.dtype)
    for i in range(n_features):
        for o in range(n_out):
            scale = spline_weight[i, o] * mask[i, o]
            base[i, o] = base_weight[i, o] * mask[i, o]
            for m in range(n_basis):
                coef[i * n_basis + m, o] = spline_coef[i, o, m] * scale
    return coef, base


@numba.njit
def _finish_input(
    i,
    n_features,
    partial,
    n_chunks,
    rows_per_input,
    polynomial_space,
    basis_polynomials,
    spline_coef,
    spline_weight,
    mask,
    grad_coef,
    grad_spline_weight,
    grad_base,
    need_coef,
    need_spline_weight,
    need_base,
):
    """Sum the chunks' partial gradients of input ``i`` in chunk order and write its parameters' gradients.

    The chunks are summed into chunk 0, in chunk order: the same numbers for
    any thread count. In ``polynomial_space`` the gradient of the coefficient
    matrix is the basis polynomials applied to the polynomial-coefficient
    gradient (basis ``m`` is ``B_{s + r}`` on the intervals ``s = m - r``).
    That gradient, ``G``, then gives the gradients of the unscaled
    coefficients, ``G * spline_weight * mask``, and of the spline weights,
    ``mask * sum_m G spline_coef``.
    """
    order = basis_polynomials.shape[1]
    n_out = partial.shape[1]
    n_gradient_rows = n_features * rows_per_input
    n_partial_rows = n_gradient_rows + n_features + 1
    grid_size = basis_polynomials.shape[0] // (n_features * order)
    n_basis = grid_size + order - 1
    first_row = i * rows_per_input
    base_row = n_gradient_rows + i
    for chunk in range(1, n_chunks):
        offset = chunk * n_partial_rows
        for m in range(first_row, first_row + rows_per_input):
            for o in range(n_out):
                partial[m, o] += partial[offset + m, o]
        for o in range(n_out):
            partial[base_row, o] += partial[offset + base_row, o]
    if need_coef or need_spline_weight:
        # in float64, rounded once to the gradients' dtype
        total = np.empty(n_out)
        weight_total = np.zeros(n_out)
        for m in range(n_basis):
            if polynomial_space:
                total[:] = 0.0
                for r in range(max(0, m - grid_size + 1), min(order, m + 1)):
                    interval_row = (i * grid_size + m - r) * order
                    for p in range(order):
                        q = basis_polynomials[interval_row + r, p]
                        for o in range(n_out):
                            total[o] += q * partial[interval_row + p, o]
            else:
                for o in range(n_out):
                    total[o] = partial[first_row + m, o]
            for o in range(n_out):
                if need_coef:
                    grad_coef[i, o, m] = total[o] * (spline_weight[i, o] * mask[i, o])
                weight_total[o] += total[o] * spline_coef[i, o, m]
        if need_spline_weight:
            for o in range(n_out):
                grad_spline_weight[i, o] = weight_total[o] * mask[i, o]
    if need_base:
        for o in range(n_out):
            grad_base[i, o] = partial[base_row, o] * mask[i, o]


def _forward_impl(x, knots, spline_coef, spline_weight, base_weight, mask, bias, spline_order, out):
    n_rows, n_features = x.shape
    n_basis = knots.shape[1] - spline_order - 1
    grid_size = n_basis - spline_order
    n_out = spline_coef.shape[1]
    order = spline_order + 1
    coef, base = _scaled_parameters(spline_coef, spline_weight, base_weight, mask)
    polynomials = _spline_polynomials(_basis_polynomials(knots, spline_order), coef, n_basis, x)
    n_blocks = (n_rows + _ROW_BLOCK - 1) // _ROW_BLOCK
    for block in prange(n_blocks):
        first_row = block * _ROW_BLOCK
        n = min(n_rows, first_row + _ROW_BLOCK) - first_row
        local = np.empty(n, dtype=x.dtype)
        origin = np.empty(n, dtype=x.dtype)
        middles = np.empty(grid_size, dtype=x.dtype)
        residual = np.empty(n, dtype=x.dtype)
        index = np.empty(n, dtype=np.int64)
        for b in range(n):
            for o in range(n_out):
                out[first_row + b, o] = bias[o]
        # Input by input: first the intervals of all rows of the block, in
        # loops that vectorise, then the sums; its knots and polynomials stay in cache.
        for i in range(n_features):
            _locate(x, i, first_row, n, knots, spline_order, grid_size, local, index, origin, middles)
            for b in range(n):
                residual[b], _ = _silu(x[first_row + b, i])
            if n_out == 1:  # a scalar Horner sum per row, in a loop of its own (no branch in it)
                weight = base[i, 0]
                for b in range(n):
                    first, d = index[b], local[b]
                    total = polynomials[first + spline_order, 0]
                    for p in range(spline_order - 1, -1, -1):
                        total = total * d + polynomials[first + p, 0]
                    out[first_row + b, 0] += total + residual[b] * weight
                continue
            for b in range(n):
                row, first, d, r = first_row + b, index[b], local[b], residual[b]
                if order == 4:  # the default order in one loop
                    d2 = d * d
                    d3 = d2 * d
                    for o in range(n_out):
                        value = r * base[i, o] + polynomials[first, o] + d * polynomials[first + 1, o]
                        out[row, o] += value + d2 * polynomials[first + 2, o] + d3 * polynomials[first + 3, o]
                else:
                    for o in range(n_out):
                        out[row, o] += r * base[i, o]
                    power = 1.0
                    for p in range(order):
                        for o in range(n_out):
                            out[row, o] += power * polynomials[first + p, o]
                        power *= d


def _backward_impl(
    x,
    knots,
    spline_coef,
    spline_weight,
    base_weight,
    mask,
    spline_order,
    grad_out,
    grad_x,
    grad_spline_coef,
    grad_spline_weight,
    grad_base,
    grad_bias,
    need_x,
    need_coef,
    need_spline_weight,
    need_base,
    need_bias,
):
    n_rows, n_features = x.shape
    n_basis = knots.shape[1] - spline_order - 1
    grid_size = n_basis - spline_order
    n_out = spline_coef.shape[1]
    order = spline_order + 1
    coef, base = _scaled_parameters(spline_coef, spline_weight, base_weight, mask)
    basis_polynomials = _basis_polynomials(knots, spline_order)
    basis = basis_polynomials.astype(x.dtype)
    # The input gradient needs the splines' polynomials.
    polynomials = _spline_polynomials(basis_polynomials, coef, n_basis, x) if need_x else np.empty((0, n_out), x.dtype)
    # Partial gradients of each chunk: of the coefficients, then one row of
    # the residual weights per input, then one of the bias. While an input's
    # share fits in the L1 cache, the coefficient gradient is summed as the
    # gradient of the polynomial coefficients, ``sum_b d_b^p grad_out[b]`` per
    # interval (no basis values per row), and mapped to the coefficients at
    # the end; on finer grids it is summed directly, from basis values by Horner.
    polynomial_space = grid_size * order * n_out * x.itemsize <= _POLYNOMIAL_GRADIENT_BYTES
    rows_per_input = grid_size * order if polynomial_space else n_basis
    n_gradient_rows = n_features * rows_per_input
    n_partial_rows = n_gradient_rows + n_features + 1
    bias_row = n_partial_rows - 1
    n_chunks = _n_chunks(n_rows, n_partial_rows * n_out, x.itemsize)
    need_partial = need_coef or need_spline_weight or need_base or need_bias
    partial = np.empty((n_chunks * n_partial_rows if need_partial else 0, n_out), dtype=x.dtype)
    for chunk in prange(n_chunks):
        first_row = chunk * n_rows // n_chunks
        n = (chunk + 1) * n_rows // n_chunks - first_row
        offset = chunk * n_partial_rows
        local = np.empty(n, dtype=x.dtype)
        origin = np.empty(n, dtype=x.dtype)
        middles = np.empty(grid_size, dtype=x.dtype)
        residual = np.empty(n, dtype=x.dtype)
        residual_slope = np.empty(n, dtype=x.dtype)
        clamp_slope = np.empty(n, dtype=x.dtype)
        index = np.empty(n, dtype=np.int64)
        values = np.empty(5, dtype=x.dtype)
        basis_values = np.empty(order, dtype=x.dtype)
        if need_partial:
            partial[offset : offset + n_partial_rows] = 0.0
            for b in range(n):
                for o in range(n_out):
                    partial[offset + bias_row, o] += grad_out[first_row + b, o]
        for i in range(n_features):
            _locate(x, i, first_row, n, knots, spline_order, grid_size, local, index, origin, middles)
            low, high = knots[i, spline_order], knots[i, spline_order + grid_size]
            for b in range(n):
                xb = x[first_row + b, i]
                residual[b], residual_slope[b] = _silu(xb)
                # torch's derivative of the clamp: 1 inside, 1/2 on a bound, 0 outside
                clamp_slope[b] = 0.25 * ((xb > low) + (xb >= low)) * ((xb < high) + (xb <= high))
            base_row = offset + n_gradient_rows + i
            if n_out == 1 and polynomial_space:
                # Scalars in a loop of their own: the residual weight's gradient
                # summed in a register, not in memory row after row.
                weight = base[i, 0]
                base_total = partial[base_row, 0] if need_partial else weight  # (unused without)
                for b in range(n):
                    row, first, d = first_row + b, index[b], local[b]
                    g = grad_out[row, 0]
                    if need_partial:
                        base_total += residual[b] * g
                        power = g
                        for p in range(order):
                            partial[offset + first + p, 0] += power
                            power *= d
                    if need_x:  # Horner on the derivative's polynomial
                        slope = spline_order * polynomials[first + spline_order, 0]
                        for p in range(spline_order - 1, 0, -1):
                            slope = slope * d + p * polynomials[first + p, 0]
                        grad_x[row, i] = g * (residual_slope[b] * weight + clamp_slope[b] * slope)
                if need_partial:
                    partial[base_row, 0] = base_total
                continue
            for b in range(n):
                row, first, d, r = first_row + b, index[b], local[b], residual[b]
                if polynomial_space:
                    gradient_row = offset + first
                else:
                    gradient_row = offset + i * n_basis + first // order - i * grid_size
                    if need_partial:
                        for q in range(order):  # B_{s + q}(x) by Horner
                            value = basis[first + q, spline_order]
                            for p in range(spline_order - 1, -1, -1):
                                value = value * d + basis[first + q, p]
                            basis_values[q] = value
                if n_out == 1:  # scalars only, no vector loops
                    g = grad_out[row, 0]
                    if need_partial:
                        partial[base_row, 0] += r * g
                        if polynomial_space:
                            power = g
                            for p in range(order):
                                partial[gradient_row + p, 0] += power
                                power *= d
                        else:
                            for q in range(order):
                                partial[gradient_row + q, 0] += basis_values[q] * g
                    if need_x:  # Horner on the derivative's polynomial
                        slope = spline_order * polynomials[first + spline_order, 0]
                        for p in range(spline_order - 1, 0, -1):
                            slope = slope * d + p * polynomials[first + p, 0]
                        grad_x[row, i] = g * (residual_slope[b] * base[i, 0] + clamp_slope[b] * slope)
                    continue
                if need_partial and polynomial_space and order == 4:
                    d2 = d * d
                    d3 = d2 * d
                    for o in range(n_out):
                        g = grad_out[row, o]
                        partial[base_row, o] += r * g
                        partial[gradient_row, o] += g
                        partial[gradient_row + 1, o] += d * g
                        partial[gradient_row + 2, o] += d2 * g
                        partial[gradient_row + 3, o] += d3 * g
                elif need_partial and polynomial_space:
                    for o in range(n_out):
                        partial[base_row, o] += r * grad_out[row, o]
                    for o in range(n_out):
                        partial[gradient_row, o] += grad_out[row, o]
                    power = d
                    for p in range(1, order):
                        for o in range(n_out):
                            partial[gradient_row + p, o] += power * grad_out[row, o]
                        power *= d
                elif need_partial:
                    for o in range(n_out):
                        partial[base_row, o] += r * grad_out[row, o]
                    for q in range(order):
                        value = basis_values[q]
                        for o in range(n_out):
                            partial[gradient_row + q, o] += value * grad_out[row, o]
                if need_x:
                    # S'(x) = sum_p p d^(p - 1) polynomial_p, times the clamp's slope
                    c = clamp_slope[b]
                    if order == 4:
                        # through ``values`` to compute in the arrays' dtype
                        values[0] = c
                        values[1] = 2.0 * c * d
                        values[2] = 3.0 * c * d * d
                        values[3] = residual_slope[b]
                        values[4] = 0.0
                        w1, w2, w3, rs = values[0], values[1], values[2], values[3]
                        total = values[4]
                        for o in range(n_out):
                            slope = rs * base[i, o] + w1 * polynomials[first + 1, o]
                            slope += w2 * polynomials[first + 2, o] + w3 * polynomials[first + 3, o]
                            total += grad_out[row, o] * slope
                    else:
                        total = residual_slope[b] * _dot(grad_out, row, base, i)
                        power = c
                        for p in range(1, order):
                            total += p * power * _dot(grad_out, row, polynomials, first + p)
                            power *= d
                    grad_x[row, i] = total
    if not need_partial:
        return
    # One parallel region more (every region costs a wake-up of the threads),
    # and only when the sums are large enough to gain from it.
    if n_chunks * n_partial_rows * n_out < _SERIAL_FINISH_SIZE:
        for i in range(n_features):
            _finish_input(
                i,
                n_features,
                partial,
                n_chunks,
                rows_per_input,
                polynomial_space,
                basis_polynomials,
                spline_coef,
                spline_weight,
                mask,
                grad_spline_coef,
                grad_spline_weight,
                grad_base,
                need_coef,
                need_spline_weight,
                need_base,
            )
    else:
        for i in prange(n_features):
            _finish_input(
                i,
                n_features,
                partial,
                n_chunks,
                rows_per_input,
                polynomial_space,
                basis_polynomials,
                spline_coef,
                spline_weight,
                mask,
                grad_spline_coef,
                grad_spline_weight,
                grad_base,
                need_coef,
                need_spline_weight,
                need_base,
            )
    if need_bias:  # the chunks' sums, in chunk order
        for o in range(n_out):
            total = partial[bias_row, o]
            for chunk in range(1, n_chunks):
                total += partial[chunk * n_partial_rows + bias_row, o]
            grad_bias[o] = total


def _compile(impl, signatures, fastmath=False):
    """``impl`` compiled for ``signatures``, through numba's on-disk cache where a cache directory is writable.

    The cache turns the compilation (45-55 s on a busy 2-core machine) into a load of about a second
    in every later process (test workers, joblib and Dask workers). numba
    keeps it in ``__pycache__`` beside this file, else in the user's cache
    directory (or ``NUMBA_CACHE_DIR``); where none is writable (a read-only
    install without a writable home) it refuses ``cache=True`` outright, and
    the kernels are then compiled for this process alone rather than lost.
    """
    try:
        return numba.jit(signatures, **{**_OPTIONS, "fastmath": fastmath})(impl)
    except RuntimeError as error:
        if "no locator available" not in str(error):
            raise
        return numba.jit(signatures, **{**_OPTIONS, "fastmath": fastmath, "cache": False})(impl)


_FLOAT_TYPES = {np.dtype(np.float32): numba.float32, np.dtype(np.float64): numba.float64}
# Kernels compiled so far, by (direction, numpy dtype); each is compiled (or
# loaded from numba's cache) at its first call, so a process that trains in
# float64 only (the CPU default) never waits for the float32 compilation.
_KERNELS = {}
_COMPILE_LOCK = threading.Lock()


# Longest wait for another process's compilation of a kernel (seconds);
# beyond it (a process stopped while compiling) this one compiles for itself.
_COMPILATION_WAIT_SECONDS = 600.0


def _lock_path(name):
    """The file of :func:`_machine_wide_lock` ``name``: one per kernel file, numba version and name.

    It lies in the ``__pycache__`` beside this file when that is writable:
    the installation's own directory, where numba keeps the cache, shared by
    every process of this installation and by no other user. Otherwise (a
    read-only install) in the temporary directory, named from this file's path.
    """
    digest = hashlib.sha256(f"{os.path.abspath(__file__)}:{numba.__version__}:{name}".encode()).hexdigest()[:16]
    beside = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__")
    directory = beside if os.path.isdir(beside) and os.access(beside, os.W_OK) else tempfile.gettempdir()
    return os.path.join(directory, f"skkan-kernel-{digest}.lock")


@contextlib.contextmanager
def _machine_wide_lock(name):
    """Hold a lock shared by every process of this machine that runs this kernel file.

    Several processes started on a fresh install (pytest-xdist workers,
    joblib's loky workers of a grid search, Dask workers) would each compile
    the same kernel at once: about 25 s of CPU apiece. Under this lock one
    process compiles and writes numba's cache, and the others wait and then
    load it. The lock is an advisory ``flock`` on the file
    :func:`_lock_path` names; it is released when its holder exits, however
    it exits, and a holder that never lets go is waited for at most
    ``_COMPILATION_WAIT_SECONDS``. Where no such lock can be taken (no
    ``fcntl``, no writable directory, a symbolic link in the file's place)
    each process compiles for itself, as it would without the lock.
    """
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    try:
        descriptor = os.open(_lock_path(name), os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
    except OSError:
        yield
        return
    try:
        deadline = time.monotonic() + _COMPILATION_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _kernel(direction, dtype):
    """The forward or backward kernel for arrays of ``dtype``, compiled on first use."""
    key = (direction, dtype)
    kernel = _KERNELS.get(key)
    if kernel is None:
        with _COMPILE_LOCK, _machine_wide_lock(f"{direction}-{dtype}"):
            kernel = _KERNELS.get(key)
            if kernel is None:
                float_type = _FLOAT_TYPES[dtype]
                if direction == "forward":
                    kernel = _compile(_forward_impl, [_signature(float_type)])
                else:
                    # The backward's sums over the output features (the input
                    # gradient) only vectorise when they may be reassociated;
                    # see the module docstring.
                    kernel = _compile(_backward_impl, [_backward_signature(float_type)], fastmath=_REASSOCIATE)
                _KERNELS[key] = kernel
    return kernel


def compile_kernels(dtype):
    """Compile (or load from the cache) the forward and backward kernels for numpy ``dtype`` now."""
    _kernel("forward", np.dtype(dtype))
    _kernel("backward", np.dtype(dtype))


# The threads a kernel may use: numba's pool. numba's thread count is
# per Python thread; the last count set in each is remembered, as setting it
# costs more than a small kernel call's own work.
_MAX_THREADS = numba.config.NUMBA_NUM_THREADS
_THREADS = threading.local()


def set_threads(n_threads):
    """Run the kernels with ``n_threads`` threads, at most numba's pool size (starts the pool)."""
    n_threads = max(1, min(int(n_threads), _MAX_THREADS))
    if getattr(_THREADS, "count", None) != n_threads:
        numba.set_num_threads(n_threads)
        _THREADS.count = n_threads


# numba's "workqueue" threading layer (used when neither TBB nor OpenMP is
# found) aborts when two Python threads run parallel kernels at once, as
# threaded dask or joblib workers would; its calls are serialised. The layer
# is known once a parallel kernel has run, and then never changes.
_WORKQUEUE_LOCK = threading.Lock()
_NO_LOCK = contextlib.nullcontext()
_GUARD = []


def _guard():
    if _GUARD:
        return _GUARD[0]
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet
        return _WORKQUEUE_LOCK
    _GUARD.append(_WORKQUEUE_LOCK if layer == "workqueue" else _NO_LOCK)
    return _GUARD[0]


def layer_forward(x, knots, spline_coef, spline_weight, base_weight, mask, bias, spline_order, n_threads, out):
    """Write a layer's output ``out`` on ``n_threads`` threads (at most numba's pool).

    The output is ``bias + silu(x) @ (base_weight * mask) + sum_i sum_m
    B_m(clamp(x_i)) spline_coef[i, :, m] * spline_weight[i] * mask[i]``. All
    arrays are C-contiguous numpy arrays of one float dtype: ``x`` of shape
    (rows, in), ``knots`` (in, n_basis + k + 1), ``spline_coef`` (in, out,
    n_basis), ``spline_weight``, ``base_weight`` and ``mask`` (in, out),
    ``bias`` (out,), ``out`` (rows, out).
    """
    kernel = _KERNELS.get(("forward", x.dtype)) or _kernel("forward", x.dtype)
    set_threads(n_threads)
    with _guard():
        kernel(x, knots, spline_coef, spline_weight, base_weight, mask, bias, spline_order, out)


def layer_backward(
    x, knots, spline_coef, spline_weight, base_weight, mask, spline_order, n_threads, grad_out, gradients, needs
):
    """Write the gradients of :func:`layer_forward`, on ``n_threads`` threads.

    ``gradients`` holds the arrays of the gradients with respect to ``x``,
    ``spline_coef``, ``spline_weight``, ``base_weight`` and ``bias`` (the
    shapes of these), overwritten where the five flags of ``needs`` ask for
    them (pass an empty array of the right dimensions and dtype otherwise).
    The input gradient includes the clamp's derivative.
    """
    kernel = _KERNELS.get(("backward", x.dtype)) or _kernel("backward", x.dtype)
    set_threads(n_threads)
    parameters = (x, knots, spline_coef, spline_weight, base_weight, mask)
    with _guard():
        kernel(*parameters, spline_order, grad_out, *gradients, *needs)
