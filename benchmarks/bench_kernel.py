"""Milliseconds per call of the compiled layer kernel, against a baseline revision, on the bench shapes.

For every layer of the four shapes of ``bench_speed.py`` (grid 5, order 3,
float32, the full batch of rows; options change the grid, dtype and knots), the forward and the backward (all three
gradients) of this tree's kernel and of the kernel of a baseline git
revision run interleaved in one process, call after call, so that the load
of a shared machine hits both alike; the table gives the medians.

Run from the repository root::

    PYTHONPATH=$PWD python benchmarks/bench_kernel.py --threads 2 --baseline main
"""

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

_ROOT = Path(__file__).resolve().parent.parent
_KERNEL_PATH = "skkan/_engine/_compiled_kernel.py"
SHAPES = {
    "toy": ([4, 8, 1], 10_000),
    "mid": ([20, 32, 32, 1], 4_000),
    "classifier": ([100, 64, 10], 2_000),
    "small": ([8, 16, 16, 1], 512),
}
GRID_SIZE, SPLINE_ORDER = 5, 3


def _load_baseline(revision, directory):
    """The kernel module of ``revision``, written to ``directory`` (numba caches it there)."""
    source = subprocess.run(
        ["git", "show", f"{revision}:{_KERNEL_PATH}"], cwd=_ROOT, check=True, capture_output=True, text=True
    ).stdout
    path = Path(directory) / "_baseline_kernel.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("_baseline_kernel", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
        "coef": rng.normal(size=(n_in * n_basis, n_out)),
        "base": rng.normal(size=(n_in, n_out)),
        "bias": rng.normal(size=n_out),
        "grad_out": rng.normal(size=(n_rows, n_out)),
    }
    return {name: np.ascontiguousarray(value, dtype=dtype) for name, value in arrays.items()}


def _calls(module, arrays):
    a = arrays
    out = np.empty_like(a["grad_out"])
    grad_x, grad_coef, grad_base = np.empty_like(a["x"]), np.empty_like(a["coef"]), np.empty_like(a["base"])

    def forward():
        module.layer_forward(a["x"], a["knots"], a["coef"], a["base"], a["bias"], SPLINE_ORDER, out)

    def backward():
        module.layer_backward(
            a["x"], a["knots"], a["coef"], a["base"], SPLINE_ORDER, a["grad_out"], grad_x, grad_coef, grad_base,
            (True, True, True),
        )  # fmt: skip

    return forward, backward


def _median_ms(functions, repeats, clock):
    """Median milliseconds of each function, the functions called in turn ``repeats`` times."""
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
    parser.add_argument("--shapes", nargs="*", default=list(SHAPES))
    arguments = parser.parse_args(argv)

    clock = time.perf_counter if arguments.clock == "wall" else time.process_time
    sys.path.insert(0, str(_ROOT))
    start = time.perf_counter()
    from skkan._engine import _compiled_kernel as new

    print(f"new kernel import (compile or cache load): {time.perf_counter() - start:.2f} s")
    with tempfile.TemporaryDirectory() as directory:
        old = _load_baseline(arguments.baseline, directory)
        for module in (old, new):
            module.set_threads(arguments.threads)
        rng = np.random.default_rng(0)
        knots = "refitted" if arguments.refitted else "uniform"
        print(
            f"\n{arguments.threads} threads, {arguments.dtype}, grid {arguments.grid_size}, {knots} knots, "
            f"{arguments.clock} clock"
        )
        print("| shape | layer | rows | fwd old ms | fwd new ms | speedup | bwd old ms | bwd new ms | speedup |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for shape in arguments.shapes:
            widths, n_rows = SHAPES[shape]
            for n_in, n_out in zip(widths[:-1], widths[1:]):
                arrays = _layer_arrays(
                    n_in, n_out, n_rows, arguments.dtype, rng, arguments.refitted, arguments.grid_size
                )
                old_forward, old_backward = _calls(old, arrays)
                new_forward, new_backward = _calls(new, arrays)
                functions = [old_forward, old_backward, new_forward, new_backward]
                for function in functions:
                    function()  # warm-up
                of, ob, nf, nb = _median_ms(functions, arguments.repeats, clock)
                print(
                    f"| {shape} | {n_in}->{n_out} | {n_rows} | {of:.3f} | {nf:.3f} | {of / nf:.2f}x "
                    f"| {ob:.3f} | {nb:.3f} | {ob / nb:.2f}x |"
                )


if __name__ == "__main__":
    main()
