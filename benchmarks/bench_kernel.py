"""Time of the compiled layer kernel against a baseline revision: raw kernels, whole layer calls, training steps.

Three tables, each timing this tree's engine and a baseline git revision's
interleaved in one process, call after call, so that the load of a shared
machine hits both alike; the tables give the medians.

* Kernels: for every layer of the four shapes of ``bench_speed.py`` (grid 5,
  order 3, float32, the full batch of rows; options change the grid, dtype
  and knots), the numba forward and backward (all gradients) alone.
* Layer calls: one KAN layer as a training step sees it, with the Python
  and torch work around the kernels: a forward under ``torch.no_grad`` (as
  in predict), and a forward and backward of all gradients (the baseline
  also pays the torch operations that scaled the coefficients before the
  kernels did), on a tiny layer (30 rows, 3 -> 8, float64, as in the
  test suite's small L-BFGS fits), the small shape's first layer (512 rows,
  8 -> 16) and the toy's first layer (10,000 rows, 4 -> 8), with ``x @ W +
  b`` of the same shape for scale.
* Training steps: one full-batch Adam step (float32) of the whole network
  of the toy and small shapes of ``bench_speed.py``, with that benchmark's
  same-size MLP for scale.

Run from the repository root::

    PYTHONPATH=$PWD python benchmarks/bench_kernel.py --threads 2 --baseline main --clock cpu

The baseline's kernels compile on the first run (about a minute per dtype);
``--baseline-dir`` keeps them in numba's cache for later runs.
"""

import argparse
import importlib
import inspect
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

_ROOT = Path(__file__).resolve().parent.parent
_ENGINE = "skkan/_engine"
SHAPES = {
    "toy": ([4, 8, 1], 10_000),
    "mid": ([20, 32, 32, 1], 4_000),
    "classifier": ([100, 64, 10], 2_000),
    "small": ([8, 16, 16, 1], 512),
}
# Layer calls: (rows, inputs, outputs, dtype).
LAYER_CALLS = {
    "tiny": (30, 3, 8, "float64"),
    "small": (512, 8, 16, "float32"),
    "toy": (10_000, 4, 8, "float32"),
}
GRID_SIZE, SPLINE_ORDER = 5, 3


def _load_baseline(revision, directory):
    """The baseline's engine, ``skkan/_engine`` of ``revision``, imported as package ``_skkan_baseline._engine``.

    Its files (and ``skkan/exceptions.py``, which the engine imports) are
    written to ``directory``; a file is rewritten only when its text changed,
    so that numba's cache, keyed on the file, stays valid from run to run.
    """

    def git(*arguments):
        return subprocess.run(["git", *arguments], cwd=_ROOT, check=True, capture_output=True, text=True).stdout

    package = Path(directory) / "_skkan_baseline"
    files = {"__init__.py": "", "exceptions.py": git("show", f"{revision}:skkan/exceptions.py")}
    for name in git("ls-tree", "--name-only", f"{revision}:{_ENGINE}").split():
        if name.endswith(".py"):
            files[f"_engine/{name}"] = git("show", f"{revision}:{_ENGINE}/{name}")
    for name, source in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != source:
            path.write_text(source)
    sys.path.insert(0, str(directory))
    return importlib.import_module("_skkan_baseline._engine")


def _layer_arrays(n_in, n_out, n_rows, dtype, rng, refitted, grid_size):
    """Inputs and parameters of one layer: knots on [-1, 1] (jittered when ``refitted``), inputs inside."""
    n_basis = grid_size + SPLINE_ORDER
    step = 2.0 / grid_size
    knots = np.tile(np.arange(-SPLINE_ORDER, grid_size + SPLINE_ORDER + 1) * step - 1.0, (n_in, 1))
    if refitted:
        knots = knots + rng.uniform(-0.3, 0.3, knots.shape) * step
        knots.sort(axis=1)
    arrays = {
        "x": rng.uniform(-1.1, 1.1, (n_rows, n_in)),
        "knots": knots,
        "spline_coef": rng.normal(size=(n_in, n_out, n_basis)),
        "spline_weight": rng.uniform(0.5, 1.5, (n_in, n_out)),
        "base_weight": rng.normal(size=(n_in, n_out)),
        "mask": np.ones((n_in, n_out)),
        "bias": rng.normal(size=n_out),
        "grad_out": rng.normal(size=(n_rows, n_out)),
    }
    arrays = {name: np.ascontiguousarray(value, dtype=dtype) for name, value in arrays.items()}
    scale = arrays["spline_weight"] * arrays["mask"]
    coef = arrays["spline_coef"] * scale[:, :, None]
    arrays["coef"] = np.ascontiguousarray(coef.transpose(0, 2, 1).reshape(-1, n_out))
    arrays["base"] = arrays["base_weight"] * arrays["mask"]
    return arrays


def _kernel_calls(kernel_module, arrays, n_threads):
    """Forward and backward of one layer on the raw kernels of ``kernel_module`` (either revision's interface)."""
    a, module = arrays, kernel_module._kernel_module()
    out = np.empty_like(a["grad_out"])
    module.set_threads(n_threads)
    if "coef" in inspect.signature(module.layer_forward).parameters:  # scaled parameters, no bias gradient
        grad_x, grad_coef, grad_base = np.empty_like(a["x"]), np.empty_like(a["coef"]), np.empty_like(a["base"])

        def forward():
            module.layer_forward(a["x"], a["knots"], a["coef"], a["base"], a["bias"], SPLINE_ORDER, out)

        def backward():
            parameters = (a["x"], a["knots"], a["coef"], a["base"])
            module.layer_backward(
                *parameters, SPLINE_ORDER, a["grad_out"], grad_x, grad_coef, grad_base, (True, True, True)
            )

        return forward, backward
    parameters = [a[name] for name in ("x", "knots", "spline_coef", "spline_weight", "base_weight", "mask")]
    names = ("x", "spline_coef", "spline_weight", "base_weight", "bias")
    gradients = [np.empty_like(a[name]) for name in names]

    def forward():
        module.layer_forward(*parameters, a["bias"], SPLINE_ORDER, n_threads, out)

    def backward():
        module.layer_backward(*parameters, SPLINE_ORDER, n_threads, a["grad_out"], gradients, (True,) * 5)

    return forward, backward


def _layer_calls(kernel_module, arrays):
    """A layer's predict forward and training forward + backward through ``kernel_module``'s autograd function."""
    import torch

    tensors = {name: torch.from_numpy(value) for name, value in arrays.items()}
    x, knots, grad_out = tensors["x"], tensors["knots"], tensors["grad_out"]
    names = ("spline_coef", "spline_weight", "base_weight", "bias")
    parameters = {name: tensors[name].clone().requires_grad_() for name in names}
    trained_x = x.clone().requires_grad_()
    mask = tensors["mask"]
    baseline = "coef_matrix" in kernel_module.compiled_layer_output.__code__.co_varnames[:2]

    def output(x):
        p = parameters
        if baseline:  # the baseline layer scaled its parameters with torch operations
            coef = p["spline_coef"] * (p["spline_weight"] * mask).unsqueeze(-1)
            coef_matrix = coef.transpose(1, 2).reshape(-1, coef.shape[1])
            base_matrix = p["base_weight"] * mask
            return kernel_module.compiled_layer_output(x, coef_matrix, base_matrix, p["bias"], knots, SPLINE_ORDER)
        layer = (p["spline_coef"], p["spline_weight"], p["base_weight"], mask, p["bias"])
        return kernel_module.compiled_layer_output(x, *layer, knots, SPLINE_ORDER)

    def predict():
        with torch.no_grad():
            output(x)

    def train():
        for tensor in (trained_x, *parameters.values()):
            tensor.grad = None  # as after optimizer.zero_grad()
        output(trained_x).backward(grad_out)

    return predict, train


def _linear_call(arrays):
    """``x @ W + b`` of the layer's shape, forward and backward, for scale."""
    import torch

    x = torch.from_numpy(arrays["x"]).clone().requires_grad_()
    weight = torch.from_numpy(arrays["base_weight"]).clone().requires_grad_()
    bias = torch.from_numpy(arrays["bias"]).clone().requires_grad_()
    grad_out = torch.from_numpy(arrays["grad_out"])

    def train():
        x.grad = weight.grad = bias.grad = None
        torch.addmm(bias, x, weight).backward(grad_out)

    return train


def _training_steps(old_engine, new_engine, widths, n_rows):
    """One full-batch Adam step (float32, MSE) of the baseline's network, this tree's, and ``bench_speed``'s MLP."""
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_speed import _build

    generator = torch.Generator().manual_seed(0)
    x = torch.rand(n_rows, widths[0], generator=generator) * 2.0 - 1.0
    y = torch.randn(n_rows, widths[-1], generator=generator)
    networks = [
        engine.KANNetwork(widths, GRID_SIZE, SPLINE_ORDER, generator=torch.Generator().manual_seed(0))
        for engine in (old_engine, new_engine)
    ]
    steps = []
    for model in (*networks, _build("torch-mlp", widths)):
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step(model=model, optimizer=optimizer):
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()

        steps.append(step)
    return steps


def _median_ms(functions, repeats, clock):
    """Median milliseconds of each function, the functions called in turn ``repeats`` times."""
    for function in functions:
        function()  # warm-up
    times = [[] for _ in functions]
    for _ in range(repeats):
        for slot, function in enumerate(functions):
            start = clock()
            function()
            times[slot].append(clock() - start)
    return [1e3 * statistics.median(t) for t in times]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="main", help="git revision of the baseline kernel (default main)")
    parser.add_argument("--baseline-dir", help="directory kept for the baseline's files and numba cache")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--grid-size", type=int, default=GRID_SIZE)
    parser.add_argument("--refitted", action="store_true", help="non-uniform knots, as after a grid refit")
    parser.add_argument(
        "--clock",
        default="wall",
        choices=["wall", "cpu"],
        help="wall clock, or the process CPU time (less sensitive to other processes; sums the threads)",
    )
    parser.add_argument("--shapes", nargs="*", default=list(SHAPES), help="shapes of the kernel table")
    parser.add_argument("--calls", nargs="*", default=list(LAYER_CALLS), help="shapes of the layer-call table")
    parser.add_argument(
        "--steps", nargs="*", default=["toy", "small"], help="shapes of the training-step table (float32)"
    )
    arguments = parser.parse_args(argv)

    import torch

    clock = time.perf_counter if arguments.clock == "wall" else time.process_time
    sys.path.insert(0, str(_ROOT))
    import skkan._engine as new_engine
    from skkan._engine import kernel as new

    with tempfile.TemporaryDirectory() as directory:
        old_engine = _load_baseline(arguments.baseline, arguments.baseline_dir or directory)
        old = importlib.import_module("_skkan_baseline._engine.kernel")
        dtypes = {arguments.dtype} | {LAYER_CALLS[name][3] for name in arguments.calls}
        for dtype in sorted(dtypes | ({"float32"} if arguments.steps else set())):
            for module in (old, new):
                start = time.perf_counter()
                module.compiled_kernel_available(getattr(torch, dtype))
                print(f"{module.__name__} {dtype} kernels compiled or loaded: {time.perf_counter() - start:.1f} s")
        # After the kernels: numba's OpenMP runtime may reset torch's thread count as it starts.
        torch.set_num_threads(arguments.threads)
        rng = np.random.default_rng(0)
        knots = "refitted" if arguments.refitted else "uniform"
        print(
            f"\n{arguments.threads} threads, {arguments.dtype}, grid {arguments.grid_size}, {knots} knots, "
            f"{arguments.clock} clock, medians of {arguments.repeats} calls\n"
        )
        if arguments.shapes:
            print("| shape | layer | rows | fwd old ms | fwd new ms | speedup | bwd old ms | bwd new ms | speedup |")
            print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for shape in arguments.shapes:
            widths, n_rows = SHAPES[shape]
            for n_in, n_out in zip(widths[:-1], widths[1:]):
                arrays = _layer_arrays(
                    n_in, n_out, n_rows, arguments.dtype, rng, arguments.refitted, arguments.grid_size
                )
                calls = [_kernel_calls(module, arrays, arguments.threads) for module in (old, new)]
                of, ob, nf, nb = _median_ms([*calls[0], *calls[1]], arguments.repeats, clock)
                print(
                    f"| {shape} | {n_in}->{n_out} | {n_rows} | {of:.3f} | {nf:.3f} | {of / nf:.2f}x "
                    f"| {ob:.3f} | {nb:.3f} | {ob / nb:.2f}x |"
                )
        if arguments.calls:
            print(
                "\n| layer call | dtype | predict old us | predict new us | speedup | train old us | train new us "
                "| speedup | x @ W + b train us |"
            )
            print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for name in arguments.calls:
            n_rows, n_in, n_out, dtype = LAYER_CALLS[name]
            arrays = _layer_arrays(n_in, n_out, n_rows, dtype, rng, arguments.refitted, arguments.grid_size)
            functions = [*_layer_calls(old, arrays), *_layer_calls(new, arrays), _linear_call(arrays)]
            of, ot, nf, nt, linear = (1e3 * ms for ms in _median_ms(functions, arguments.repeats, clock))
            print(
                f"| {name}: {n_rows} x {n_in} -> {n_out} | {dtype} | {of:.0f} | {nf:.0f} | {of / nf:.2f}x "
                f"| {ot:.0f} | {nt:.0f} | {ot / nt:.2f}x | {linear:.0f} |"
            )

        if arguments.steps:
            print("\n| training step | old ms | new ms | speedup | MLP ms | old / MLP | new / MLP |")
            print("|---|---:|---:|---:|---:|---:|---:|")
        for name in arguments.steps:
            widths, n_rows = SHAPES[name]
            steps = _training_steps(old_engine, new_engine, widths, n_rows)
            old_ms, new_ms, mlp_ms = _median_ms(steps, max(1, arguments.repeats // 4), clock)
            print(
                f"| {name}: {widths}, {n_rows} rows | {old_ms:.2f} | {new_ms:.2f} | {old_ms / new_ms:.2f}x "
                f"| {mlp_ms:.2f} | {old_ms / mlp_ms:.2f} | {new_ms / mlp_ms:.2f} |"
            )


if __name__ == "__main__":
    main()
