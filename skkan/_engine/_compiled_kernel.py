"""Numba-compiled CPU kernels for a KAN layer: SiLU residual, splines and bias in one pass.

Importing this module compiles (or loads from numba's on-disk cache) the
kernels for float32 and float64; it raises ``ImportError`` when numba is
missing, and :mod:`~skkan._engine.kernel` then keeps the eager torch path.

For each input the kernels find its knot interval ``j`` by bisection,
evaluate the ``k + 1`` non-zero basis values with de Boor's triangle on the
``2k`` knots around it (exact on non-uniform knots, the same arithmetic as
:func:`~skkan._engine.local_bspline.local_values`) and contract them
directly with the ``k + 1`` coefficient rows: no dense basis block and no
chain of small tensor operations. The SiLU residual branch and the bias are
summed in the same pass, so one layer is one kernel call forward and one
backward.

* The forward runs in parallel over blocks of rows; every output row is
  summed by one thread in a fixed order.
* The backward runs in parallel over input features: the thread of feature
  ``i`` owns coefficient rows ``i * n_basis ... (i + 1) * n_basis - 1`` and
  column ``i`` of the input gradient, and sums over the rows in order. No two
  threads write the same number and no reduction order depends on the
  scheduling, so both gradients are bitwise identical run after run (for any
  thread count). The basis is re-evaluated in the backward rather than
  stored: the forward keeps nothing but its inputs.

``fastmath`` stays off so that the results are IEEE-exact and agree with
the eager path to rounding error.
"""

import contextlib
import threading

import numba
import numpy as np
from numba import prange

__all__ = ["layer_forward", "layer_backward", "set_threads"]

# Rows per parallel work item of the forward; the per-item scratch buffers
# are allocated once per block rather than once per row.
_ROW_BLOCK = 64

_OPTIONS = {"nopython": True, "parallel": True, "cache": True, "fastmath": False, "nogil": True}


def _signature(float_type):
    matrix = float_type[:, ::1]
    return numba.void(matrix, matrix, matrix, matrix, float_type[::1], numba.int64, matrix)


def _backward_signature(float_type):
    matrix = float_type[:, ::1]
    flag = numba.boolean
    return numba.void(matrix, matrix, matrix, matrix, numba.int64, matrix, matrix, matrix, matrix, flag, flag, flag)


@numba.njit(inline="always")
def _silu(x):
    """SiLU and its derivative, ``x sigmoid(x)`` and ``s (1 + x (1 - s))``."""
    s = 1.0 / (1.0 + np.exp(-x))
    return x * s, s * (1.0 + x * (1.0 - s))


@numba.njit(inline="always")
def _interval(t, x, spline_order, grid_size):
    """Index ``j`` with ``t[j] <= x < t[j + 1]``, clamped to ``[k, k + G - 1]`` (bisection)."""
    low = spline_order
    high = spline_order + grid_size - 1
    while low < high:
        middle = (low + high + 1) // 2
        if x >= t[middle]:
            low = middle
        else:
            high = middle - 1
    return low


@numba.njit(inline="always")
def _clamp(t, x, spline_order, grid_size):
    """Clamped input and the clamp's derivative (torch's: one half at a bound)."""
    low = t[spline_order]
    high = t[spline_order + grid_size]
    if x > high:
        return high, 0.0
    if x == high:
        return x, 0.5
    if x < low:
        return low, 0.0
    if x == low:
        return x, 0.5
    return x, 1.0


@numba.njit(inline="always")
def _basis(t, x, j, spline_order, values, lower):
    """De Boor's triangle: ``values[r] = B_{j-k+r, k}(x)``, ``lower[s] = B_{j-k+1+s, k-1}(x)``.

    Same operations, in the same order, as the eager ``local_values``.
    """
    values[0] = 1.0
    for degree in range(1, spline_order + 1):
        if degree == spline_order:
            for s in range(degree):
                lower[s] = values[s]
        saved = 0.0
        for r in range(degree):
            term = values[r] / (t[j + 1 + r] - t[j + 1 + r - degree])
            value = (t[j + 1 + r] - x) * term
            values[r] = value + saved if r > 0 else value
            saved = (x - t[j + 1 + r - degree]) * term
        values[degree] = saved


def _forward_impl(x, knots, coef, base, bias, spline_order, out):
    n_rows, n_features = x.shape
    n_basis = knots.shape[1] - spline_order - 1
    grid_size = n_basis - spline_order
    n_out = coef.shape[1]
    n_blocks = (n_rows + _ROW_BLOCK - 1) // _ROW_BLOCK
    for block in prange(n_blocks):
        values = np.empty(spline_order + 1, dtype=x.dtype)
        lower = np.empty(spline_order + 1, dtype=x.dtype)
        for b in range(block * _ROW_BLOCK, min(n_rows, (block + 1) * _ROW_BLOCK)):
            for o in range(n_out):
                out[b, o] = bias[o]
            for i in range(n_features):
                residual, _ = _silu(x[b, i])
                base_row = base[i]
                for o in range(n_out):
                    out[b, o] += residual * base_row[o]
                t = knots[i]
                xi, _ = _clamp(t, x[b, i], spline_order, grid_size)
                j = _interval(t, xi, spline_order, grid_size)
                _basis(t, xi, j, spline_order, values, lower)
                first = i * n_basis + j - spline_order
                for r in range(spline_order + 1):
                    v = values[r]
                    row = coef[first + r]
                    for o in range(n_out):
                        out[b, o] += v * row[o]


def _backward_impl(
    x, knots, coef, base, spline_order, grad_out, grad_x, grad_coef, grad_base, need_x, need_coef, need_base
):
    n_rows, n_features = x.shape
    n_basis = knots.shape[1] - spline_order - 1
    grid_size = n_basis - spline_order
    n_out = coef.shape[1]
    for i in prange(n_features):
        values = np.empty(spline_order + 1, dtype=x.dtype)
        lower = np.empty(spline_order + 1, dtype=x.dtype)
        slope = np.empty(n_out, dtype=x.dtype)
        t = knots[i]
        if need_coef:
            for m in range(i * n_basis, (i + 1) * n_basis):
                for o in range(n_out):
                    grad_coef[m, o] = 0.0
        if need_base:
            for o in range(n_out):
                grad_base[i, o] = 0.0
        base_row = base[i]
        for b in range(n_rows):
            residual, residual_slope = _silu(x[b, i])
            g = grad_out[b]
            if need_base:
                for o in range(n_out):
                    grad_base[i, o] += residual * g[o]
            xi, clamp_slope = _clamp(t, x[b, i], spline_order, grid_size)
            j = _interval(t, xi, spline_order, grid_size)
            _basis(t, xi, j, spline_order, values, lower)
            first = i * n_basis + j - spline_order
            if need_coef:
                for r in range(spline_order + 1):
                    v = values[r]
                    row = grad_coef[first + r]
                    for o in range(n_out):
                        row[o] += v * g[o]
            if need_x:
                total = 0.0
                for o in range(n_out):
                    total += g[o] * base_row[o]
                grad_x[b, i] = total * residual_slope
                if spline_order == 0 or clamp_slope == 0.0:
                    continue
                # S'(x) = sum_s B_{m,k-1}(x) k (C_m - C_{m-1}) / (t_{m+k} - t_m), m = j - k + 1 + s
                for o in range(n_out):
                    slope[o] = 0.0
                for s in range(spline_order):
                    w = spline_order * lower[s] / (t[j + 1 + s] - t[j + 1 + s - spline_order])
                    upper_row = coef[first + s + 1]
                    lower_row = coef[first + s]
                    for o in range(n_out):
                        slope[o] += w * (upper_row[o] - lower_row[o])
                total = 0.0
                for o in range(n_out):
                    total += g[o] * slope[o]
                grad_x[b, i] += total * clamp_slope


def _compile(impl, signatures):
    """``impl`` compiled for ``signatures``, through numba's on-disk cache where a cache directory is writable.

    The cache turns the ~20 s compilation into a load of a fraction of a second
    in every later process (test workers, joblib and Dask workers). numba
    keeps it in ``__pycache__`` beside this file, else in the user's cache
    directory (or ``NUMBA_CACHE_DIR``); where none is writable (a read-only
    install without a writable home) it refuses ``cache=True`` outright, and
    the kernels are then compiled for this process alone rather than lost.
    """
    try:
        return numba.jit(signatures, **_OPTIONS)(impl)
    except RuntimeError as error:
        if "no locator available" not in str(error):
            raise
        return numba.jit(signatures, **{**_OPTIONS, "cache": False})(impl)


_FLOAT_TYPES = (numba.float32, numba.float64)
_forward = _compile(_forward_impl, [_signature(f) for f in _FLOAT_TYPES])
_backward = _compile(_backward_impl, [_backward_signature(f) for f in _FLOAT_TYPES])


def set_threads(n_threads):
    """Run the kernels with ``n_threads`` threads, at most numba's pool size."""
    numba.set_num_threads(max(1, min(int(n_threads), numba.config.NUMBA_NUM_THREADS)))


# numba's "workqueue" threading layer (used when neither TBB nor OpenMP is
# found) aborts when two Python threads run parallel kernels at once, as
# threaded dask or joblib workers would; its calls are serialised.
_WORKQUEUE_LOCK = threading.Lock()


def _guard():
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet
        layer = "workqueue"
    return _WORKQUEUE_LOCK if layer == "workqueue" else contextlib.nullcontext()


def layer_forward(x, knots, coef, base, bias, spline_order, out):
    """Write a layer's output ``bias + silu(x) @ base + sum_i sum_m B_m(clamp(x_i)) coef[i * n_basis + m]``.

    All arrays are C-contiguous numpy arrays of one float dtype: ``x`` of
    shape (rows, in), ``knots`` (in, n_basis + k + 1), ``coef``
    (in * n_basis, out), ``base`` (in, out), ``bias`` (out,), ``out``
    (rows, out).
    """
    with _guard():
        _forward(x, knots, coef, base, bias, spline_order, out)


def layer_backward(x, knots, coef, base, spline_order, grad_out, grad_x, grad_coef, grad_base, needs):
    """Write the gradients of :func:`layer_forward` with respect to ``x``, ``coef`` and ``base``.

    ``grad_x`` (rows, in), ``grad_coef`` (in * n_basis, out) and
    ``grad_base`` (in, out) are overwritten where the three flags of
    ``needs`` ask for them (pass any 2-d array of the dtype otherwise). The
    input gradient includes the clamp's derivative. The bias gradient is the
    column sum of ``grad_out``.
    """
    with _guard():
        _backward(x, knots, coef, base, spline_order, grad_out, grad_x, grad_coef, grad_base, *needs)
