"""Choice of the layer kernel: the compiled CPU kernel or the eager torch path.

The fast path of every KAN layer (:func:`~skkan._engine.fast_layer.fast_layer_output`)
runs on one of two kernels:

``"compiled"``
    numba-compiled CPU loops (:mod:`~skkan._engine._compiled_kernel`):
    the forward and the gradients evaluate each edge's spline as its
    polynomial on the input's knot interval (computed per call from the
    coefficients, exact on any knots), with the SiLU residual and the bias
    in the same pass: no dense basis block. CPU, float32 and float64 only;
    needs numba.
``"eager"``
    the torch implementation of :mod:`~skkan._engine.fast_layer`: runs on
    every device, and is the reference the compiled kernel is tested
    against.

The mode ``"auto"`` (default) uses the compiled kernel for CPU tensors of
float32 or float64 when numba can be imported, and the eager path
otherwise (GPU or MPS tensors, other dtypes, numba missing or failing to
compile, inside ``torch.func`` transforms). ``"compiled"`` forces the
compiled kernel where it can run (CPU float32/float64 tensors) and raises
``RuntimeError`` if numba cannot be loaded; ``"eager"`` always uses the torch
path.

A process started with ``fork`` after its parent ran a fit (Python's
``multiprocessing`` default on Linux before 3.14) inherits thread pools
that GNU OpenMP cannot carry across ``fork``: torch's parallel regions hang
there and numba's OpenMP layer terminates the child. In such a child, the
``"auto"`` mode uses the eager path and torch runs one thread
(:func:`_after_fork_in_child`). Processes started with ``spawn`` or
``forkserver`` (joblib's default loky backend, which scikit-learn uses) are
not affected.

The compiled kernel runs on torch's thread count (``torch.set_num_threads``),
but a layer call with little work runs on one thread: below
``_EDGE_EVALUATIONS_PER_THREAD`` edge evaluations (rows x inputs x outputs,
with fewer than ``_MIN_COUNTED_OUTPUTS`` outputs counted as that many) per
thread, waking the other threads costs more than they save, and on a busy
machine a parallel region waits for every one of its threads to get a core
(a small fit then ran about ten times slower). The thread count is a
function of the shapes, so results stay the same run after run.

The mode comes from the environment variable ``SKKAN_KERNEL``
(``auto``, ``compiled`` or ``eager``), read at the first forward, and can
be changed at any time with :func:`set_spline_kernel` or, for a block of
code, :func:`spline_kernel`.
"""

import contextlib
import os
import weakref

import numpy as np
import torch

__all__ = [
    "KERNEL_MODES",
    "compiled_kernel_available",
    "compiled_layer_output",
    "get_spline_kernel",
    "set_spline_kernel",
    "spline_kernel",
    "use_compiled_kernel",
]

#: Accepted values of ``SKKAN_KERNEL`` and :func:`set_spline_kernel`.
KERNEL_MODES = ("auto", "compiled", "eager")
_ENVIRONMENT_VARIABLE = "SKKAN_KERNEL"
# Edge evaluations (rows x inputs x outputs) that make a thread worth waking:
# some hundred microseconds of kernel work against tens for the wake-up.
_EDGE_EVALUATIONS_PER_THREAD = 1 << 16
# Most of a row-input pair's cost (its interval, the SiLU) does not depend on
# the number of outputs: per pair, one output cost 22 ns forward on one
# thread, 8 outputs 25 ns, 16 outputs 30 ns. So a layer with fewer outputs
# counts as having this many (the toy's 8 -> 1 layer on 10,000 rows, 4 ms of
# work a step, ran on one thread when its evaluations were counted as such).
_MIN_COUNTED_OUTPUTS = 8

# "mode": the current mode (None until read from the environment);
# "module"/"error": the loaded kernel module, or why it could not load;
# "compiled": per torch dtype, None once its kernels compiled, else the error;
# "forked": set in a child forked from this process.
_STATE = {"mode": None}


def _after_fork_in_child():
    """Make a forked child safe: eager layers and one torch thread (see the module docstring)."""
    _STATE["forked"] = True
    torch.set_num_threads(1)


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _validated(mode, source):
    if mode not in KERNEL_MODES:
        raise ValueError(f"{source} must be one of {', '.join(KERNEL_MODES)}; got {mode!r}.")
    return mode


def get_spline_kernel():
    """Return the current kernel mode, ``"auto"``, ``"compiled"`` or ``"eager"``."""
    if _STATE["mode"] is None:
        value = os.environ.get(_ENVIRONMENT_VARIABLE, "auto").strip().lower() or "auto"
        _STATE["mode"] = _validated(value, f"The environment variable {_ENVIRONMENT_VARIABLE}")
    return _STATE["mode"]


def set_spline_kernel(mode):
    """Select the spline kernel of all KAN layers; return the previous mode.

    Parameters
    ----------
    mode : {"auto", "compiled", "eager"}
        See the module docstring. Overrides ``SKKAN_KERNEL``.

    Returns
    -------
    str
        The mode in force before the call.

    Examples
    --------
    >>> from skkan._engine import set_spline_kernel
    >>> previous = set_spline_kernel("eager")
    >>> _ = set_spline_kernel(previous)
    """
    previous = get_spline_kernel()
    _STATE["mode"] = _validated(mode, "The spline kernel mode")
    return previous


@contextlib.contextmanager
def spline_kernel(mode):
    """Context manager running its block with the spline kernel ``mode``.

    Examples
    --------
    >>> import torch
    >>> from skkan._engine import KANLayer, spline_kernel
    >>> layer = KANLayer(2, 1, grid_size=5, spline_order=3)
    >>> with spline_kernel("eager"):
    ...     y = layer(torch.zeros(4, 2))
    """
    previous = set_spline_kernel(mode)
    try:
        yield
    finally:
        _STATE["mode"] = previous


def _kernel_module():
    """The compiled kernel module, or None when numba cannot load it (tried once)."""
    if "module" not in _STATE:
        try:
            from . import _compiled_kernel
        except Exception as error:  # ImportError, or a numba compilation or cache failure
            _STATE["module"], _STATE["error"] = None, error
        else:
            _STATE["module"] = _compiled_kernel
    return _STATE["module"]


def compiled_kernel_available(dtype=torch.float64):
    """Whether the compiled kernel runs on ``dtype`` tensors (numba installed and compiling).

    Compiles the kernels for ``dtype`` (or loads them from numba's cache)
    on the first call for that dtype.
    """
    return _kernel_error(dtype) is None


def use_compiled_kernel(x):
    """Whether the spline contraction of ``x`` runs on the compiled kernel under the current mode."""
    mode = get_spline_kernel()
    if mode == "eager" or (mode == "auto" and _STATE.get("forked")):
        return False
    if x.device.type != "cpu" or x.dtype not in (torch.float32, torch.float64):
        return False
    # Functorch transforms (vmap, jacfwd, ...) wrap tensors the kernel cannot read.
    if torch._C._functorch.is_functorch_wrapped_tensor(x) or x.is_meta:
        return False
    error = _kernel_error(x.dtype)
    if error is not None:
        if mode == "compiled":
            raise RuntimeError(
                f"SKKAN_KERNEL='compiled' needs the numba kernel, which could not be loaded: {error!r}. "
                "Install numba (pip install numba) or use the 'auto' or 'eager' mode."
            )
        return False
    return True


def _kernel_error(dtype):
    """Why the compiled kernel cannot run on ``dtype`` tensors, or None when it can (compiles it once)."""
    if _kernel_module() is None:
        return _STATE["error"]
    compiled = _STATE.setdefault("compiled", {})
    if dtype not in compiled:
        # Loading the kernels starts numba's OpenMP runtime, which resets the
        # thread count torch reads to one per core: a user's
        # torch.set_num_threads(1) would silently become 2 or more, and on a
        # busy machine each small torch op then waits on spinning threads.
        torch_threads = torch.get_num_threads()
        try:
            _STATE["module"].compile_kernels(torch.empty(0, dtype=dtype).numpy().dtype)
            _STATE["module"].set_threads(1)  # starts numba's thread pool now, inside the guard
        except Exception as error:  # a numba compilation or cache failure: the eager path runs
            compiled[dtype] = error
        else:
            compiled[dtype] = None
        finally:
            torch.set_num_threads(torch_threads)
    return compiled[dtype]


def _kernel_threads(n_rows, in_features, out_features):
    """Threads for a layer call: torch's count, fewer when there is too little work to share."""
    evaluations = n_rows * in_features * max(out_features, _MIN_COUNTED_OUTPUTS)
    useful = evaluations // _EDGE_EVALUATIONS_PER_THREAD
    return max(1, min(torch.get_num_threads(), useful))


def _array(tensor, dtype):
    """``tensor`` as a C-contiguous numpy array of torch ``dtype``, a view where it already is one."""
    if tensor.dtype != dtype:
        tensor = tensor.to(dtype)
    if tensor.requires_grad:
        tensor = tensor.detach()
    return tensor.contiguous().numpy()


# numpy views of the layers' parameters and buffers, by id of the tensor:
# ``Tensor.numpy`` costs more than a small layer's kernel call, and a
# parameter keeps its memory from step to step (optimisers update it in
# place). An entry is used only while the weak reference still gives the
# same tensor on the same memory, and dropped when the tensor dies.
_VIEWS = {}


def _forget_view(key):
    return lambda _: _VIEWS.pop(key, None)


def _parameter_array(tensor, dtype):
    """:func:`_array` of a tensor that lives across calls (a parameter or buffer), its view reused."""
    key = id(tensor)
    entry = _VIEWS.get(key)
    if entry is not None and entry[0]() is tensor and entry[1] == tensor.data_ptr():
        return entry[2]
    array = _array(tensor, dtype)
    if tensor.dtype == dtype and tensor.is_contiguous():  # a view of the tensor's own memory
        _VIEWS[key] = (weakref.ref(tensor, _forget_view(key)), tensor.data_ptr(), array)
    return array


def _new_tensor(shape, dtype):
    """An uninitialised CPU tensor and its numpy view (cheaper than ``torch.empty`` and ``Tensor.numpy``)."""
    array = np.empty(shape, dtype=_NUMPY_DTYPES[dtype])
    return torch.from_numpy(array), array


_NUMPY_DTYPES = {torch.float32: np.float32, torch.float64: np.float64}
# Empty arrays passed for the gradients a backward does not compute, by
# torch dtype: of the input, unscaled coefficients, spline weights, residual
# weights and bias (the kernel's argument types fix their dimensions).
_NO_GRADIENTS = {
    dtype: tuple(np.empty((0,) * ndim, dtype=numpy_dtype) for ndim in (2, 3, 2, 2, 1))
    for dtype, numpy_dtype in _NUMPY_DTYPES.items()
}


def _layer_arrays(x, spline_coef, spline_weight, base_weight, mask, bias, knots):
    """The numpy arrays of a layer call, in the kernels' order, all of ``x``'s dtype."""
    dtype = x.dtype
    parameters = (knots, spline_coef, spline_weight, base_weight, mask, bias)
    return [_array(x, dtype), *(_parameter_array(t, dtype) for t in parameters)]


def _forward(arrays, spline_order):
    """Run the forward kernel on :func:`_layer_arrays`; return the output tensor."""
    x, spline_coef = arrays[0], arrays[2]
    n_rows, n_features = x.shape
    n_out = spline_coef.shape[1]
    out, out_array = _new_tensor((n_rows, n_out), _TORCH_DTYPES[x.dtype.type])
    n_threads = _kernel_threads(n_rows, n_features, n_out)
    _STATE["module"].layer_forward(*arrays, spline_order, n_threads, out_array)
    return out


_TORCH_DTYPES = {np.float32: torch.float32, np.float64: torch.float64}


class _CompiledLayer(torch.autograd.Function):
    """A whole KAN layer on the compiled kernel: one autograd node, one kernel call each way.

    The output is ``bias + silu(x) @ (base_weight * mask) + dense_basis(clamp(x)) @ C`` with ``C`` the
    coefficients ``spline_coef * (spline_weight * mask)[..., None]`` laid out as a matrix: the kernels
    scale the parameters themselves and return the gradients of the unscaled ones, so that a layer costs
    no other torch operation, forward or backward. Keeps only its inputs for the backward, which
    re-evaluates the basis.
    """

    @staticmethod
    def forward(ctx, x, spline_coef, spline_weight, base_weight, mask, bias, knots, spline_order):
        arrays = _layer_arrays(x, spline_coef, spline_weight, base_weight, mask, bias, knots)
        # The arrays share the tensors' memory. Only the input is saved as a
        # tensor too, so that autograd reports its in-place change before the
        # backward; saving the parameters costs more than a small layer's kernel.
        ctx.save_for_backward(x)
        ctx.arrays, ctx.spline_order = arrays[:6], spline_order
        return _forward(arrays, spline_order)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        ctx.saved_tensors  # noqa: B018 (autograd's check that the input was not changed in place)
        x, knots, spline_coef, spline_weight, base_weight, mask = ctx.arrays
        dtype = _TORCH_DTYPES[x.dtype.type]
        grad_out = _array(grad_output, dtype)
        needs = ctx.needs_input_grad
        needs = (needs[0], needs[1], needs[2], needs[3], needs[5])
        shapes = (x.shape, spline_coef.shape, spline_weight.shape, base_weight.shape, (spline_coef.shape[1],))
        gradients, arrays = [], []
        for shape, need, empty in zip(shapes, needs, _NO_GRADIENTS[dtype]):
            gradient, array = _new_tensor(shape, dtype) if need else (None, empty)
            gradients.append(gradient)
            arrays.append(array)
        n_threads = _kernel_threads(x.shape[0], x.shape[1], spline_coef.shape[1])
        _STATE["module"].layer_backward(*ctx.arrays, ctx.spline_order, n_threads, grad_out, arrays, needs)
        grad_x, grad_coef, grad_spline_weight, grad_base, grad_bias = gradients
        return grad_x, grad_coef, grad_spline_weight, grad_base, None, grad_bias, None, None


def compiled_layer_output(x, spline_coef, spline_weight, base_weight, mask, bias, knots, spline_order):
    """Output of a KAN layer on the compiled kernel, differentiable to first order.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, in_features)
        CPU tensor of float32 or float64; the other tensors are converted to its dtype.
    spline_coef : torch.Tensor of shape (in_features, out_features, n_basis)
        Unscaled spline coefficients.
    spline_weight, base_weight, mask : torch.Tensor of shape (in_features, out_features)
        Scales of the splines and weights of the SiLU residual branch, both multiplied by ``mask``
        (not differentiated).
    bias : torch.Tensor of shape (out_features,)
    knots : torch.Tensor of shape (in_features, n_basis + spline_order + 1)
    spline_order : int

    Returns
    -------
    torch.Tensor of shape (batch, out_features)
        ``bias + silu(x) @ (base_weight * mask) + dense_basis(x) @ C``, with row ``i * n_basis + m``
        of ``C`` equal to ``spline_coef[i, :, m] * spline_weight[i] * mask[i]``. Inputs are clamped to
        the grid inside the kernel, with torch's derivative of the clamp (one half exactly at a bound,
        zero outside).
    """
    parameters = (spline_coef, spline_weight, base_weight, mask, bias, knots)
    if torch.is_grad_enabled() and (x.requires_grad or any(t.requires_grad for t in parameters)):
        return _CompiledLayer.apply(x, *parameters, spline_order)
    # No gradient (predict): the kernel alone, without an autograd node.
    return _forward(_layer_arrays(x, *parameters), spline_order)
