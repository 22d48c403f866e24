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
``_EDGE_EVALUATIONS_PER_THREAD`` edge evaluations (rows x inputs x outputs)
per thread, waking the other threads costs more than they save, and on a
busy machine a parallel region waits for every one of its threads to get a
core (a small fit then ran about ten times slower). The thread count is a
function of the shapes, so results stay the same run after run.

The mode comes from the environment variable ``SKKAN_KERNEL``
(``auto``, ``compiled`` or ``eager``), read at the first forward, and can
be changed at any time with :func:`set_spline_kernel` or, for a block of
code, :func:`spline_kernel`.
"""

import contextlib
import os

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
    useful = (n_rows * in_features * out_features) // _EDGE_EVALUATIONS_PER_THREAD
    return max(1, min(torch.get_num_threads(), useful))


class _CompiledLayer(torch.autograd.Function):
    """``bias + silu(x) @ base_matrix + dense_basis(clamp(x)) @ coef_matrix`` on the compiled kernel.

    Keeps only its inputs for the backward, which re-evaluates the basis.
    """

    @staticmethod
    def forward(ctx, x, coef_matrix, base_matrix, bias, knots, spline_order):
        kernel = _kernel_module()
        kernel.set_threads(_kernel_threads(x.shape[0], x.shape[1], coef_matrix.shape[1]))
        x, coef_matrix, base_matrix = (t.detach().contiguous() for t in (x, coef_matrix, base_matrix))
        bias, knots = bias.detach().contiguous(), knots.detach().contiguous()
        out = x.new_empty(x.shape[0], coef_matrix.shape[1])
        arrays = (t.numpy() for t in (x, knots, coef_matrix, base_matrix, bias))
        kernel.layer_forward(*arrays, spline_order, out.numpy())
        ctx.save_for_backward(x, coef_matrix, base_matrix, knots)
        ctx.spline_order = spline_order
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        x, coef_matrix, base_matrix, knots = ctx.saved_tensors
        needs = tuple(bool(need) for need in ctx.needs_input_grad[:3])
        empty = x.new_empty(0, 0)
        gradients = [torch.empty_like(t) if need else empty for t, need in zip((x, coef_matrix, base_matrix), needs)]
        grad_output = grad_output.to(x.dtype).contiguous()
        kernel = _kernel_module()
        kernel.set_threads(_kernel_threads(x.shape[0], x.shape[1], coef_matrix.shape[1]))
        arrays = [t.numpy() for t in (x, knots, coef_matrix, base_matrix)]
        kernel.layer_backward(*arrays, ctx.spline_order, grad_output.numpy(), *(g.numpy() for g in gradients), needs)
        grad_bias = grad_output.sum(0) if ctx.needs_input_grad[3] else None
        return (*(g if need else None for g, need in zip(gradients, needs)), grad_bias, None, None)


def compiled_layer_output(x, coef_matrix, base_matrix, bias, knots, spline_order):
    """Output of a KAN layer on the compiled kernel, differentiable to first order.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, in_features)
        CPU tensor of float32 or float64.
    coef_matrix : torch.Tensor of shape (in_features * n_basis, out_features)
        Scaled spline coefficients, row ``i * n_basis + m`` for basis ``m`` of input ``i``.
    base_matrix : torch.Tensor of shape (in_features, out_features)
        Weights of the SiLU residual branch.
    bias : torch.Tensor of shape (out_features,)
    knots : torch.Tensor of shape (in_features, n_basis + spline_order + 1)
    spline_order : int

    Returns
    -------
    torch.Tensor of shape (batch, out_features)
        ``bias + silu(x) @ base_matrix + dense_basis(x) @ coef_matrix``.
        Inputs are clamped to the grid inside the kernel, with torch's
        derivative of the clamp (one half exactly at a bound, zero outside).
    """
    dtype = x.dtype
    return _CompiledLayer.apply(
        x, coef_matrix.to(dtype), base_matrix.to(dtype), bias.to(dtype), knots.to(dtype), spline_order
    )
