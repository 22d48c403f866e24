"""The compiled layer kernel against the eager path, and the kernel switch."""

import os
import subprocess
import sys
import threading

import pytest
import torch

from skkan._engine import KANLayer, set_layer_grid
from skkan._engine import kernel as kernel_module
from skkan._engine.fast_layer import fast_layer_output
from skkan._engine.kernel import (
    compiled_kernel_available,
    compiled_layer_output,
    get_spline_kernel,
    set_spline_kernel,
    spline_kernel,
    use_compiled_kernel,
)

needs_numba = pytest.mark.skipif(not compiled_kernel_available(), reason="numba kernel unavailable")

# rtol of the comparisons between the two kernels, relative to the largest entry
_TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-12}


def _layer(dtype, spline_order, refitted, seed=0, grid_size=5, out_features=3):
    generator = torch.Generator().manual_seed(seed)
    layer = KANLayer(4, out_features, grid_size=grid_size, spline_order=spline_order, generator=generator, dtype=dtype)
    if refitted:  # a grid refit makes the knots non-uniform
        data = torch.randn(100, 4, generator=generator, dtype=dtype) ** 3
        set_layer_grid(layer, data, torch.ones(100, dtype=dtype), grid_eps=0.0)
    with torch.no_grad():
        layer.bias.normal_(generator=generator)
    layer.mask[1, 2] = 0.0
    return layer


def _inputs(knots, spline_order, n_rows, seed):
    """Inputs inside, on the interior knots, on the grid edges and outside the grid."""
    generator = torch.Generator().manual_seed(seed)
    low, high = knots[:, spline_order], knots[:, -spline_order - 1]
    x = low + (high - low) * (torch.rand(n_rows, knots.shape[0], generator=generator, dtype=knots.dtype) * 1.4 - 0.2)
    special = [low, high, low - 3.0, high + 3.0] + [knots[:, m] for m in range(spline_order + 1, knots.shape[1])]
    for row, values in enumerate(special[:n_rows]):
        x[row] = values
    return x


def _outputs_and_gradients(layer, x, mode):
    with spline_kernel(mode):
        x = x.clone().requires_grad_()
        output = layer(x)
        weights = torch.linspace(-1.0, 2.0, output.numel(), dtype=x.dtype).reshape(output.shape)
        parameters = [x, layer.spline_coef, layer.base_weight, layer.spline_weight, layer.bias]
        return [output.detach(), *torch.autograd.grad((output * weights).sum(), parameters)]


def _assert_agree(got, expected, dtype):
    names = ["output", "x", "spline_coef", "base_weight", "spline_weight", "bias"]
    for name, a, b in zip(names, got, expected):
        scale = max(1.0, float(b.abs().max()))
        torch.testing.assert_close(a, b, atol=_TOLERANCE[dtype] * scale, rtol=_TOLERANCE[dtype], msg=name)


@needs_numba
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("spline_order", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("refitted", [False, True])
def test_compiled_kernel_matches_eager_path(dtype, spline_order, refitted):
    layer = _layer(dtype, spline_order, refitted)
    x = _inputs(layer.knots, spline_order, 37, seed=spline_order)
    compiled = _outputs_and_gradients(layer, x, "compiled")
    eager = _outputs_and_gradients(layer, x, "eager")
    _assert_agree(compiled, eager, dtype)
    # Outside the grid the splines are flat: only the SiLU residual has a slope.
    sigmoid = torch.sigmoid(x[2:4])
    silu_slope = sigmoid * (1.0 + x[2:4] * (1.0 - sigmoid))
    weights = torch.linspace(-1.0, 2.0, 37 * 3, dtype=dtype).reshape(37, 3)[2:4]
    expected = silu_slope * (weights @ (layer.base_weight * layer.mask).T)
    torch.testing.assert_close(compiled[1][2:4], expected, rtol=_TOLERANCE[dtype], atol=_TOLERANCE[dtype])


@needs_numba
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("refitted", [False, True])
@pytest.mark.parametrize(("spline_order", "out_features"), [(3, 3), (3, 40), (2, 40)])
def test_compiled_kernel_matches_eager_path_on_a_fine_grid(dtype, refitted, spline_order, out_features):
    # 40 intervals: the kernel finds them from a uniform-grid guess, not by
    # counting knots; with 40 outputs the backward sums the coefficient
    # gradient directly rather than through the polynomial coefficients.
    layer = _layer(dtype, spline_order, refitted, seed=9, grid_size=40, out_features=out_features)
    x = _inputs(layer.knots, spline_order, 97, seed=10)
    _assert_agree(_outputs_and_gradients(layer, x, "compiled"), _outputs_and_gradients(layer, x, "eager"), dtype)


@needs_numba
@pytest.mark.parametrize("n_rows", [1, 2, 7, 129])
def test_compiled_kernel_on_odd_batch_sizes(n_rows):
    layer = _layer(torch.float64, 3, refitted=True, seed=n_rows)
    x = _inputs(layer.knots, 3, n_rows, seed=n_rows)
    _assert_agree(
        _outputs_and_gradients(layer, x, "compiled"), _outputs_and_gradients(layer, x, "eager"), torch.float64
    )


@needs_numba
def test_compiled_kernel_on_an_empty_batch_gives_zero_gradients():
    layer = _layer(torch.float64, 3, refitted=False)
    got = _outputs_and_gradients(layer, torch.zeros(0, 4, dtype=torch.float64), "compiled")
    assert got[0].shape == (0, 3)
    assert all(torch.all(gradient == 0) for gradient in got[2:])


@needs_numba
@pytest.mark.parametrize("spline_order", [1, 3, 5])
def test_compiled_kernel_passes_gradcheck(spline_order):
    layer = _layer(torch.float64, spline_order, refitted=True, seed=1)
    generator = torch.Generator().manual_seed(2)
    # Interior inputs (gradcheck's finite differences need smooth points),
    # and one far outside the grid, where only the residual has a slope.
    low, high = layer.knots[:, spline_order], layer.knots[:, -spline_order - 1]
    x = low + (high - low) * (0.05 + 0.9 * torch.rand(5, 4, generator=generator, dtype=torch.float64))
    x[0, 0] = high[0] + 2.0
    with torch.no_grad():
        layer.spline_weight.uniform_(0.5, 1.5, generator=generator)
    parameters = (layer.spline_coef, layer.spline_weight, layer.base_weight, layer.bias)
    inputs = [t.detach().clone().requires_grad_() for t in (x, *parameters)]

    def function(x, spline_coef, spline_weight, base_weight, bias):
        layer_parameters = (spline_coef, spline_weight, base_weight, layer.mask, bias)
        return compiled_layer_output(x, *layer_parameters, layer.knots, spline_order)

    assert torch.autograd.gradcheck(function, inputs, eps=1e-6, atol=1e-7, rtol=1e-6)


@needs_numba
def test_compiled_gradients_are_bitwise_reproducible():
    layer = _layer(torch.float32, 3, refitted=True, seed=3)
    x = _inputs(layer.knots, 3, 300, seed=4)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        first = _outputs_and_gradients(layer, x, "compiled")
        second = _outputs_and_gradients(layer, x, "compiled")
    finally:
        torch.set_num_threads(previous_threads)
    for a, b in zip(first, second):
        assert torch.equal(a, b)


@needs_numba
def test_compiled_gradients_do_not_depend_on_the_thread_count(monkeypatch):
    # 1000 rows: several row chunks in the backward, whose partial gradients
    # are summed in chunk order whatever the number of threads (which this
    # small a call would otherwise not use).
    monkeypatch.setattr(kernel_module, "_EDGE_EVALUATIONS_PER_THREAD", 1)
    layer = _layer(torch.float32, 3, refitted=True, seed=7)
    x = _inputs(layer.knots, 3, 1000, seed=8)
    previous_threads = torch.get_num_threads()
    results = []
    try:
        for n_threads in (1, 2, 3):
            torch.set_num_threads(n_threads)
            results.append(_outputs_and_gradients(layer, x, "compiled"))
    finally:
        torch.set_num_threads(previous_threads)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert torch.equal(a, b)


@pytest.fixture
def fresh_mode(monkeypatch):
    """Forget the current mode so that the environment variable is read again."""
    monkeypatch.setitem(kernel_module._STATE, "mode", None)
    yield monkeypatch


def test_environment_variable_selects_the_kernel(fresh_mode):
    fresh_mode.setenv("SKKAN_KERNEL", "Eager")
    assert get_spline_kernel() == "eager"
    assert not use_compiled_kernel(torch.zeros(2, 2))


def test_invalid_environment_variable_is_an_error(fresh_mode):
    fresh_mode.setenv("SKKAN_KERNEL", "fastest")
    with pytest.raises(ValueError, match="SKKAN_KERNEL"):
        get_spline_kernel()


def test_set_spline_kernel_and_context_manager_restore_the_mode(fresh_mode):
    fresh_mode.delenv("SKKAN_KERNEL", raising=False)
    assert set_spline_kernel("eager") == "auto"
    with spline_kernel("compiled"):
        assert get_spline_kernel() == "compiled"
    assert get_spline_kernel() == "eager"
    with pytest.raises(ValueError, match="one of auto, compiled, eager"):
        set_spline_kernel("numba")


def test_auto_mode_falls_back_to_eager_without_the_kernel(fresh_mode):
    fresh_mode.setitem(kernel_module._STATE, "module", None)
    fresh_mode.setitem(kernel_module._STATE, "error", ImportError("No module named 'numba'"))
    layer = _layer(torch.float64, 3, refitted=False)
    x = _inputs(layer.knots, 3, 9, seed=0)
    with spline_kernel("auto"):
        assert not use_compiled_kernel(x)
        output = layer(x)
    torch.testing.assert_close(output, _outputs_and_gradients(layer, x, "eager")[0])
    with spline_kernel("compiled"), pytest.raises(RuntimeError, match="pip install numba"):
        layer(x)


@needs_numba
def test_auto_mode_uses_the_kernel_only_for_cpu_float_tensors(fresh_mode):
    fresh_mode.delenv("SKKAN_KERNEL", raising=False)
    assert use_compiled_kernel(torch.zeros(2, 2))
    assert use_compiled_kernel(torch.zeros(2, 2, dtype=torch.float64))
    assert not use_compiled_kernel(torch.zeros(2, 2, dtype=torch.float16))
    assert not use_compiled_kernel(torch.zeros(2, 2, device="meta"))


@needs_numba
@pytest.mark.parametrize(
    "needs",
    [
        (True, False, False, False, False),
        (False, True, False, False, False),
        (False, False, True, False, False),
        (False, False, False, True, False),
        (False, False, False, False, True),
        (True, True, False, False, True),
    ],
)
def test_compiled_kernel_computes_any_subset_of_the_gradients(needs):
    layer = _layer(torch.float64, 3, refitted=True, seed=5)
    x = _inputs(layer.knots, 3, 300, seed=6)
    arrays = [x, layer.spline_coef, layer.spline_weight, layer.base_weight, layer.bias]
    gradients = {}
    for mode in ("compiled", "eager"):
        inputs = [t.detach().clone().requires_grad_(need) for t, need in zip(arrays, needs)]
        x_input, spline_coef, spline_weight, base_weight, bias = inputs
        with spline_kernel(mode):
            output = fast_layer_output(
                x_input, spline_coef, spline_weight, base_weight, layer.mask, bias, layer.knots, 3
            )
        wanted = [t for t in inputs if t.requires_grad]
        gradients[mode] = torch.autograd.grad(output.square().sum(), wanted)
    for got, expected in zip(gradients["compiled"], gradients["eager"]):
        torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12 * max(1.0, float(expected.abs().max())))


@needs_numba
def test_compiled_kernel_converts_parameters_to_the_input_dtype():
    layer = _layer(torch.float64, 3, refitted=True, seed=11)
    x = _inputs(layer.knots, 3, 20, seed=12)
    parameters = (layer.spline_coef, layer.spline_weight, layer.base_weight, layer.mask, layer.bias)
    as_float32 = [t.float() for t in (x, *parameters, layer.knots)]
    with torch.no_grad():
        got = compiled_layer_output(*as_float32[:1], *(t.double() for t in as_float32[1:]), 3)
        expected = compiled_layer_output(*as_float32, 3)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_small_layer_calls_run_on_one_thread_and_large_ones_on_torchs_count():
    from skkan._engine.kernel import _kernel_threads

    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert _kernel_threads(100, 5, 4) == 1  # 2,000 edge evaluations: one thread
        assert _kernel_threads(10_000, 4, 8) == 2  # 320,000: torch's two threads
        assert _kernel_threads(10_000, 8, 1) == 2  # one output costs about as much as eight
        assert _kernel_threads(512, 16, 1) == 1
        assert _kernel_threads(0, 4, 8) == 1
    finally:
        torch.set_num_threads(previous)


def test_a_kernel_that_fails_to_compile_for_a_dtype_falls_back_to_eager(fresh_mode):
    # The kernels compile per dtype at first use; a numba failure then must
    # not reach the user in the auto mode (the eager path runs), and the
    # compiled mode names it.
    module = kernel_module._kernel_module()

    def broken(dtype):
        raise RuntimeError("numba: failed to compile")

    fresh_mode.setitem(kernel_module._STATE, "compiled", {})
    fresh_mode.setattr(module, "compile_kernels", broken)
    layer = _layer(torch.float64, 3, refitted=False)
    x = _inputs(layer.knots, 3, 9, seed=0)
    with spline_kernel("auto"):
        assert not use_compiled_kernel(x)
        torch.testing.assert_close(layer(x), _outputs_and_gradients(layer, x, "eager")[0])
    with spline_kernel("compiled"), pytest.raises(RuntimeError, match="failed to compile"):
        use_compiled_kernel(x)


@needs_numba
@pytest.mark.skipif(sys.platform == "win32", reason="the lock across processes uses fcntl")
def test_kernel_compilation_waits_for_another_process_holding_its_lock(monkeypatch):
    # Processes started together on a fresh install (test, loky and Dask
    # workers) must compile each kernel once: one compiles, the others wait
    # for its lock and then load numba's cache.
    module = kernel_module._kernel_module()
    name = f"test-{os.getpid()}"
    beside = os.path.join(os.path.dirname(os.path.abspath(module.__file__)), "__pycache__")
    if os.access(beside, os.W_OK):  # the installation's own directory, not a shared temporary one
        assert os.path.dirname(module._lock_path(name)) == beside
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys\n"
            f"fd = os.open({module._lock_path(name)!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "sys.stdin.readline()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        entered = threading.Event()

        def compile_under_lock():
            with module._machine_wide_lock(name):
                entered.set()

        waiter = threading.Thread(target=compile_under_lock)
        waiter.start()
        assert not entered.wait(0.5)  # waits while the other process holds the lock
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert entered.wait(30)  # and goes on once it is released
        waiter.join()
        holder.wait()
        # A holder that never lets go (a process stopped mid-compilation) is
        # waited for a bounded time only; then this process compiles itself.
        holder = subprocess.Popen(holder.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(module, "_COMPILATION_WAIT_SECONDS", 0.2)
        with module._machine_wide_lock(name):
            pass
    finally:
        holder.kill()
        holder.wait()
        os.unlink(module._lock_path(name))
