"""Per-step training time, predict throughput and training memory of skkan against other KANs and an MLP.

One run prints one table per shape, all models side by side, and writes them
to ``benchmarks/results/speed.md`` (``--output`` to change). Run
``python benchmarks/bench_speed.py --help`` for the options.

Models
------
skkan (compiled)   skkan's KANNetwork on the numba layer kernel (the CPU default).
skkan (eager)      the same network on the eager torch path (``SKKAN_KERNEL=eager``).
torch MLP          SiLU MLP with the KAN's depth and about its number of parameters.
RBF KAN            a layer written here from FastKAN's published algorithm
                   (Li 2024): layer norm, Gaussian radial basis functions on a
                   fixed uniform grid, one linear map of the flattened basis,
                   plus a SiLU residual linear map.
dense B-spline KAN a layer written here from efficient-kan's algorithm: the
                   dense Cox-de Boor basis of every input on all knots,
                   flattened and multiplied with the scaled coefficients, plus
                   a SiLU residual linear map.
pykan 0.2.8        ``kan.KAN(...).speed()``, when the package imports.

Method
------
All models of a shape live in one process and are timed interleaved: in each
round, every model runs a block of Adam steps, so that the load of a shared
machine hits them alike. The step time is the median over all timed steps
(wall clock and process CPU time); predict rows/s is the median over rounds
of a gradient-free forward pass over all rows. The peak training memory is
the growth of the resident set over two training steps from a trimmed heap
(``malloc_trim`` and a reset of ``VmHWM``, Linux only), after the model,
its optimizer state and (for skkan) the compiled kernel exist. All models use float32,
the same optimizer, torch's fused Adam (lr 1e-3: one kernel call updates every
parameter, as in skkan's own fits; the default for-loop Adam costs a
Python-level update per parameter tensor, which charges a model for how its
parameters are split rather than for its algorithm) and the thread count given
(default 2).
"""

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent

SHAPES = {
    # The pykan target is stated on a run of 100 consecutive steps of the toy.
    "toy": {"widths": [4, 8, 1], "n_rows": 10_000, "task": "regression", "run_steps": 100},
    "mid": {"widths": [20, 32, 32, 1], "n_rows": 4_000, "task": "regression"},
    "classifier": {"widths": [100, 64, 10], "n_rows": 2_000, "task": "classification"},
    "small": {"widths": [8, 16, 16, 1], "n_rows": 512, "task": "regression"},
}
MODELS = ["skkan-compiled", "skkan-eager", "torch-mlp", "rbf-kan", "bspline-kan", "pykan"]
_LABELS = {
    "skkan-compiled": "skkan (compiled)",
    "skkan-eager": "skkan (eager)",
    "torch-mlp": "torch MLP",
    "rbf-kan": "RBF KAN (FastKAN algorithm)",
    "bspline-kan": "dense B-spline KAN (efficient-kan algorithm)",
    "pykan": "pykan 0.2.8 speed()",
}
GRID_SIZE = 5
SPLINE_ORDER = 3


# ----------------------------------------------------------------------
# Reference layers, written from the published algorithms
# ----------------------------------------------------------------------
def _reference_layers():
    import torch
    from torch import nn

    class RBFKANLayer(nn.Module):
        """FastKAN: Gaussian RBFs ``exp(-((x - c) / h)^2)`` of the layer-normed input."""

        def __init__(self, n_in, n_out, n_centers):
            super().__init__()
            self.norm = nn.LayerNorm(n_in)
            self.register_buffer("centers", torch.linspace(-2.0, 2.0, n_centers))
            self.width = 4.0 / (n_centers - 1)
            self.spline = nn.Linear(n_in * n_centers, n_out, bias=False)
            nn.init.trunc_normal_(self.spline.weight, std=0.1)
            self.base = nn.Linear(n_in, n_out)

        def forward(self, x):
            basis = torch.exp(-(((self.norm(x)[..., None] - self.centers) / self.width) ** 2))
            return self.spline(basis.flatten(1)) + self.base(nn.functional.silu(x))

    class DenseBSplineKANLayer(nn.Module):
        """efficient-kan: dense Cox-de Boor basis on all knots, one matrix product."""

        def __init__(self, n_in, n_out, grid_size, spline_order):
            super().__init__()
            step = 2.0 / grid_size
            knots = torch.arange(-spline_order, grid_size + spline_order + 1) * step - 1.0
            self.register_buffer("knots", knots.expand(n_in, -1).contiguous())
            self.spline_order = spline_order
            self.spline_weight = nn.Parameter(0.1 * torch.randn(n_out, n_in, grid_size + spline_order))
            self.spline_scaler = nn.Parameter(torch.ones(n_out, n_in))
            self.base = nn.Linear(n_in, n_out)

        def basis(self, x):
            x = x.unsqueeze(-1)
            t = self.knots
            bases = ((x >= t[:, :-1]) & (x < t[:, 1:])).to(x.dtype)
            for k in range(1, self.spline_order + 1):
                left = (x - t[:, : -(k + 1)]) / (t[:, k:-1] - t[:, : -(k + 1)]) * bases[..., :-1]
                right = (t[:, k + 1 :] - x) / (t[:, k + 1 :] - t[:, 1:-k]) * bases[..., 1:]
                bases = left + right
            return bases

        def forward(self, x):
            weight = (self.spline_weight * self.spline_scaler.unsqueeze(-1)).flatten(1)
            return nn.functional.linear(self.basis(x).flatten(1), weight) + self.base(nn.functional.silu(x))

    return RBFKANLayer, DenseBSplineKANLayer


def _kan_parameter_count(widths):
    per_edge = GRID_SIZE + SPLINE_ORDER + 2  # coefficients, base and spline weight
    return sum(n_in * n_out * per_edge + n_out for n_in, n_out in zip(widths[:-1], widths[1:]))


def _mlp_hidden_width(widths):
    """Hidden width of an MLP with the KAN's depth and about its parameter count."""
    target, n_hidden = _kan_parameter_count(widths), len(widths) - 2

    def count(width):
        sizes = [widths[0]] + [width] * n_hidden + [widths[-1]]
        return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))

    width = 1
    while count(width + 1) <= target:
        width += 1
    return width


def _build(model_name, widths):
    import torch

    torch.manual_seed(0)
    if model_name.startswith("skkan"):
        sys.path.insert(0, str(_ROOT))
        from skkan._engine import KANNetwork

        return KANNetwork(widths, GRID_SIZE, SPLINE_ORDER, generator=torch.Generator().manual_seed(0))
    if model_name == "pykan":
        from kan import KAN

        return KAN(width=list(widths), grid=GRID_SIZE, k=SPLINE_ORDER, seed=0, auto_save=False, device="cpu").speed()
    pairs = list(zip(widths[:-1], widths[1:]))
    if model_name == "rbf-kan":
        layer, _ = _reference_layers()
        return torch.nn.Sequential(*(layer(a, b, GRID_SIZE + SPLINE_ORDER) for a, b in pairs))
    if model_name == "bspline-kan":
        _, layer = _reference_layers()
        return torch.nn.Sequential(*(layer(a, b, GRID_SIZE, SPLINE_ORDER) for a, b in pairs))
    width = _mlp_hidden_width(widths)
    sizes = [widths[0]] + [width] * (len(widths) - 2) + [widths[-1]]
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.SiLU()]
    return torch.nn.Sequential(*layers[:-1])


def _data(shape):
    import torch

    generator = torch.Generator().manual_seed(0)
    widths, n_rows = shape["widths"], shape["n_rows"]
    x = torch.rand(n_rows, widths[0], generator=generator) * 2.0 - 1.0
    if shape["task"] == "classification":
        return x, torch.randint(widths[-1], (n_rows,), generator=generator)
    return x, torch.randn(n_rows, widths[-1], generator=generator)


class _Trainer:
    """One model with its optimizer; ``step`` is one full-batch Adam step."""

    def __init__(self, model_name, shape):
        import torch

        self.name, self.model = model_name, _build(model_name, shape["widths"])
        self.parameters = sum(p.numel() for p in self.model.parameters() if p.requires_grad)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3, fused=True)
        self.classify = shape["task"] == "classification"
        self.kernel = {"skkan-compiled": "compiled", "skkan-eager": "eager"}.get(model_name)

    def _context(self):
        import contextlib

        if self.kernel is None:
            return contextlib.nullcontext()
        from skkan._engine import spline_kernel

        return spline_kernel(self.kernel)

    def step(self, x, y):
        import torch

        with self._context():
            self.optimizer.zero_grad()
            output = self.model(x)
            if self.classify:
                loss = torch.nn.functional.cross_entropy(output, y)
            else:
                loss = torch.nn.functional.mse_loss(output, y)
            loss.backward()
            self.optimizer.step()

    def predict(self, x):
        import torch

        with self._context(), torch.no_grad():
            return self.model(x)


def _time_shape(shape, models, rounds, steps):
    x, y = _data(shape)
    trainers, results = [], {}
    for name in models:
        try:
            trainer = _Trainer(name, shape)
            for _ in range(2):  # warm-up: allocator, optimizer state, kernel load
                trainer.step(x, y)
            trainer.predict(x)
        except Exception as error:  # an optional model (pykan) that cannot run
            results[name] = {"error": f"{type(error).__name__}: {error}"[:120]}
            continue
        trainers.append(trainer)
        results[name] = {"parameters": trainer.parameters, "wall": [], "cpu": [], "predict": []}
        results[name]["peak_mib"] = _peak_training_mib(trainer, x, y)
    for _ in range(rounds):
        for trainer in trainers:
            row = results[trainer.name]
            n_steps = steps if trainer.name != "pykan" else max(1, steps // 3)
            for _ in range(n_steps):
                start = time.perf_counter(), time.process_time()
                trainer.step(x, y)
                row["wall"].append(time.perf_counter() - start[0])
                row["cpu"].append(time.process_time() - start[1])
            start = time.perf_counter()
            trainer.predict(x)
            row["predict"].append(time.perf_counter() - start)
    runs = {}
    if shape.get("run_steps"):  # whole runs of consecutive steps, 3 interleaved repetitions
        for _ in range(3):
            for trainer in trainers:
                if trainer.name in ("skkan-compiled", "pykan"):
                    start = time.perf_counter()
                    for _ in range(shape["run_steps"]):
                        trainer.step(x, y)
                    runs.setdefault(trainer.name, []).append(time.perf_counter() - start)
    for trainer in trainers:
        row = results[trainer.name]
        results[trainer.name] = {
            "parameters": row["parameters"],
            "step_ms": 1000 * statistics.median(row["wall"]),
            "step_cpu_ms": 1000 * statistics.median(row["cpu"]),
            "predict_rows_per_s": shape["n_rows"] / statistics.median(row["predict"]),
            "n_steps": len(row["wall"]),
            "peak_mib": row["peak_mib"],
        }
        if trainer.name in runs:
            results[trainer.name]["run_s"] = statistics.median(runs[trainer.name])
            results[trainer.name]["run_steps"] = shape["run_steps"]
    return results


def _status_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _peak_training_mib(trainer, x, y):
    """Growth of the resident set over two training steps (Linux), from a trimmed heap.

    ``malloc_trim`` returns freed heap memory to the system, and writing 5
    to ``/proc/self/clear_refs`` resets the peak (``VmHWM``) to the current
    resident size, so that the peak after the steps counts what a step
    allocates (activations, gradients, temporaries), seen by the system.
    """
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return math.nan
    baseline = _status_kib("VmRSS")
    for _ in range(2):
        trainer.step(x, y)
    return (_status_kib("VmHWM") - baseline) / 1024


def _version(distribution):
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def _ratio(value, reference):
    return f"{value / reference:.2f}" if reference and not math.isnan(value) and not math.isnan(reference) else ""


def _table(results, arguments):
    lines = [
        "# Training and prediction speed",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC with `python benchmarks/bench_speed.py "
        f"--threads {arguments.threads} --rounds {arguments.rounds} --steps {arguments.steps}` on "
        f"{platform.machine()} ({os.cpu_count()} logical CPUs shared with other jobs), {arguments.threads} threads, "
        f"float32, Python {platform.python_version()}, torch {_version('torch')}, numba {_version('numba')}, "
        f"pykan {_version('pykan')}. Grid size {GRID_SIZE}, spline order {SPLINE_ORDER}.",
        "",
        "Step: median wall-clock time of one full-batch step of torch's fused Adam (forward, loss, backward, "
        "update) over "
        f"{arguments.rounds} interleaved rounds of {arguments.steps} steps per model; CPU: median process "
        "CPU time of a step (all threads). Predict: median rows/s of a gradient-free forward pass over all "
        "rows. Memory: growth of the peak resident set size over two training steps, from a trimmed heap "
        "with the peak reset (optimizer state already allocated). Ratios are to the torch MLP with the "
        "same parameter count. The machine was shared with other jobs, so single figures are noisy; "
        "the medians and the interleaving make the ratios the "
        "figures to read.",
        "",
    ]
    for shape_name, rows in results.items():
        shape = SHAPES[shape_name]
        lines += [
            f"## `{shape_name}`: widths {shape['widths']}, {shape['n_rows']:,} rows, full batch, {shape['task']}",
            "",
            "| model | parameters | step ms | step / MLP | CPU ms/step | predict rows/s | predict time / MLP "
            "| peak train MiB | memory / MLP |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        mlp = rows.get("torch-mlp", {})
        for name, row in rows.items():
            if "error" in row:
                lines.append(f"| {_LABELS[name]} | unavailable: {row['error']} | | | | | | | |")
                continue
            lines.append(
                f"| {_LABELS[name]} | {row['parameters']:,} | {row['step_ms']:.2f} "
                f"| {_ratio(row['step_ms'], mlp.get('step_ms'))} | {row['step_cpu_ms']:.2f} "
                f"| {row['predict_rows_per_s']:,.0f} "
                f"| {_ratio(mlp.get('predict_rows_per_s', math.nan), row['predict_rows_per_s'])} "
                f"| {row['peak_mib']:.1f} | {_ratio(row['peak_mib'], mlp.get('peak_mib'))} |"
            )
        lines += [""] + _targets(rows) + [""]
    return "\n".join(lines)


def _targets(rows):
    compiled, mlp, rbf = rows.get("skkan-compiled", {}), rows.get("torch-mlp", {}), rows.get("rbf-kan", {})
    if "step_ms" not in compiled or "step_ms" not in mlp:
        return []
    lines = [f"- skkan (compiled) step / MLP step: {compiled['step_ms'] / mlp['step_ms']:.2f} (target <= 2)."]
    if "step_ms" in rbf:
        lines.append(
            f"- skkan (compiled) against the RBF KAN: step time {compiled['step_ms'] / rbf['step_ms']:.2f}x, "
            f"predict rows/s {compiled['predict_rows_per_s'] / rbf['predict_rows_per_s']:.2f}x (target: < 1 and > 1)."
        )
    if "step_ms" in rows.get("skkan-eager", {}):
        speed_up = rows["skkan-eager"]["step_ms"] / compiled["step_ms"]
        lines.append(f"- compiled kernel speed-up over the eager path: {speed_up:.2f}x.")
    if "step_ms" in rows.get("pykan", {}):
        lines.append(f"- pykan step / skkan (compiled) step: {rows['pykan']['step_ms'] / compiled['step_ms']:.1f}.")
    if "run_s" in rows.get("pykan", {}) and "run_s" in compiled:
        lines.append(
            f"- {compiled['run_steps']} consecutive steps (median of 3): skkan (compiled) {compiled['run_s']:.2f} s, "
            f"pykan {rows['pykan']['run_s']:.2f} s, pykan / skkan {rows['pykan']['run_s'] / compiled['run_s']:.1f} "
            "(target >= 10)."
        )
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch and numba threads (default 2)")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved timing rounds (default 7)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per model and round (default 5)")
    parser.add_argument("--shapes", nargs="+", choices=list(SHAPES), default=list(SHAPES))
    parser.add_argument("--models", nargs="+", choices=MODELS, default=MODELS)
    parser.add_argument("--output", type=Path, default=_ROOT / "benchmarks" / "results" / "speed.md")
    arguments = parser.parse_args(argv)
    import torch

    torch.set_num_threads(arguments.threads)
    results = {}
    for shape_name in arguments.shapes:
        print(f"timing {shape_name} ...", flush=True)
        results[shape_name] = _time_shape(SHAPES[shape_name], arguments.models, arguments.rounds, arguments.steps)
        for name, row in results[shape_name].items():
            status = row.get("error") or f"{row['step_ms']:.2f} ms/step"
            print(f"  {name:<16} {status}", flush=True)
        # Written after every shape, so that an interrupted run keeps what it measured.
        table = _table(results, arguments)
        arguments.output.parent.mkdir(parents=True, exist_ok=True)
        arguments.output.write_text(table + "\n")
        arguments.output.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    print()
    print(table)


if __name__ == "__main__":
    main()
