"""Training and prediction speed of skkan's engine against pykan and MLPs.

Every model runs in its own fresh Python process, one after the other, on the
same machine and with the same number of threads, so that the peak-memory
figures of one model do not include another's. Run ``python
benchmarks/bench_speed.py --help`` for the options; ``benchmarks/README.md``
explains the method.

Models
------
skkan (fast)       skkan's KANNetwork with the local B-spline path (default).
skkan (reference)  the same network on the dense Cox-de Boor reference path.
pykan              ``kan.KAN`` 0.2.8 in speed mode (``model.speed()``).
torch MLP          SiLU MLP with as many hidden layers as the KAN and a hidden
                   width giving about the KAN's number of trainable parameters.
sklearn MLP        ``MLPRegressor`` of the same shape, one ``partial_fit`` per
                   step (one Adam step on the batch).
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent

TASKS = {
    "toy": {
        "description": "exp(sin(pi x0) + x1^2) + x2 x3, 10,000 samples, full batch",
        "widths": [4, 8, 1],
        "grid_size": 5,
        "n_samples": 10_000,
        "batch_size": 10_000,
    },
    "wide": {
        "description": "random targets, widths [64, 64, 64, 1], batch 4096",
        "widths": [64, 64, 64, 1],
        "grid_size": 10,
        "n_samples": 4096,
        "batch_size": 4096,
    },
}
MODELS = ["skkan-fast", "skkan-reference", "pykan", "torch-mlp", "sklearn-mlp"]
_LABELS = {
    "skkan-fast": "skkan (fast)",
    "skkan-reference": "skkan (reference)",
    "pykan": "pykan 0.2.8",
    "torch-mlp": "torch MLP",
    "sklearn-mlp": "sklearn MLPRegressor",
}
SPLINE_ORDER = 3
PREDICT_BATCH = 10_000


# ----------------------------------------------------------------------
# Worker side: one model, one task, in a fresh process
# ----------------------------------------------------------------------
def _data(task, n_rows, seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, (n_rows, task["widths"][0])).astype(np.float32)
    if task["widths"][0] == 4:
        y = np.exp(np.sin(np.pi * X[:, 0]) + X[:, 1] ** 2) + X[:, 2] * X[:, 3]
    else:
        y = rng.standard_normal(n_rows)
    return X, y.astype(np.float32)[:, None]


def _kan_parameter_count(widths, grid_size):
    # coefficients, base and spline weights per edge, one bias per node
    per_edge = grid_size + SPLINE_ORDER + 2
    return sum(n_in * n_out * per_edge + n_out for n_in, n_out in zip(widths[:-1], widths[1:]))


def _mlp_hidden_width(widths, target):
    """Hidden width of an MLP with the KAN's depth and about ``target`` parameters."""
    n_hidden = len(widths) - 2

    def count(width):
        sizes = [widths[0]] + [width] * n_hidden + [widths[-1]]
        return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))

    width = 1
    while count(width + 1) <= target:
        width += 1
    return width, count(width)


def _ru_maxrss_mib():
    # Linux reports kibibytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _torch_model(model_name, task):
    import torch

    widths, grid_size = task["widths"], task["grid_size"]
    if model_name.startswith("skkan"):
        sys.path.insert(0, str(_ROOT))
        from skkan._engine import KANNetwork

        network = KANNetwork(widths, grid_size, SPLINE_ORDER, generator=torch.Generator().manual_seed(0))
        for layer in network.layers:
            layer.use_fast_path = model_name == "skkan-fast"
        return network
    if model_name == "pykan":
        from kan import KAN

        model = KAN(width=list(widths), grid=grid_size, k=SPLINE_ORDER, seed=0, auto_save=False, device="cpu")
        return model.speed()
    width, _ = _mlp_hidden_width(widths, _kan_parameter_count(widths, grid_size))
    sizes = [widths[0]] + [width] * (len(widths) - 2) + [widths[-1]]
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.SiLU()]
    torch.manual_seed(0)
    return torch.nn.Sequential(*layers[:-1])


def _run_torch(model_name, task, n_steps, n_predict):
    import torch

    X, y = _data(task, task["n_samples"], seed=0)
    x, target = torch.from_numpy(X), torch.from_numpy(y)
    batch = task["batch_size"]
    model = _torch_model(model_name, task)
    n_parameters = sum(p.numel() for p in model.parameters() if p.requires_grad)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(1)

    def step():
        rows = torch.randperm(x.shape[0], generator=generator)[:batch]
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x[rows]), target[rows])
        loss.backward()
        optimizer.step()

    baseline = _ru_maxrss_mib()
    times = []
    for index in range(n_steps + 1):
        start = time.perf_counter(), time.process_time()
        step()
        if index:  # the first step warms up allocators and optimizer state
            times.append((time.perf_counter() - start[0], time.process_time() - start[1]))
    peak = _ru_maxrss_mib() - baseline
    X_predict, _ = _data(task, n_predict, seed=2)
    x_predict = torch.from_numpy(X_predict)
    model(x_predict[:PREDICT_BATCH])
    start = time.perf_counter()
    with torch.no_grad():
        for first in range(0, n_predict, PREDICT_BATCH):
            model(x_predict[first : first + PREDICT_BATCH])
    predict_seconds = time.perf_counter() - start
    return n_parameters, times, predict_seconds, peak


def _run_sklearn(task, n_steps, n_predict):
    import warnings

    import numpy as np
    from sklearn.neural_network import MLPRegressor

    widths = task["widths"]
    width, n_parameters = _mlp_hidden_width(widths, _kan_parameter_count(widths, task["grid_size"]))
    X, y = _data(task, task["n_samples"], seed=0)
    batch = task["batch_size"]
    model = MLPRegressor(
        hidden_layer_sizes=(width,) * (len(widths) - 2),
        batch_size=batch,
        learning_rate_init=1e-3,
        shuffle=False,
        random_state=0,
    )
    rng = np.random.default_rng(1)
    baseline = _ru_maxrss_mib()
    times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for index in range(n_steps + 1):
            rows = rng.permutation(X.shape[0])[:batch]
            start = time.perf_counter(), time.process_time()
            model.partial_fit(X[rows], y[rows, 0])
            if index:
                times.append((time.perf_counter() - start[0], time.process_time() - start[1]))
    peak = _ru_maxrss_mib() - baseline
    X_predict, _ = _data(task, n_predict, seed=2)
    start = time.perf_counter()
    for first in range(0, n_predict, PREDICT_BATCH):
        model.predict(X_predict[first : first + PREDICT_BATCH])
    return n_parameters, times, time.perf_counter() - start, peak


def _worker(arguments):
    task = TASKS[arguments.task]
    threads = arguments.threads
    import torch

    torch.set_num_threads(threads)
    if arguments.model == "sklearn-mlp":
        from threadpoolctl import threadpool_limits

        with threadpool_limits(threads):
            result = _run_sklearn(task, arguments.steps, arguments.predict_rows)
    else:
        result = _run_torch(arguments.model, task, arguments.steps, arguments.predict_rows)
    n_parameters, times, predict_seconds, peak = result
    print(
        json.dumps(
            {
                "parameters": n_parameters,
                "step_seconds": statistics.median(wall for wall, _ in times),
                "step_cpu_seconds": statistics.median(cpu for _, cpu in times),
                "predict_rows_per_second": arguments.predict_rows / predict_seconds,
                "peak_train_mib": peak,
            }
        )
    )


# ----------------------------------------------------------------------
# Driver side
# ----------------------------------------------------------------------
def _measure(task_name, model_name, steps, predict_rows, threads, timeout):
    environment = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        environment[name] = str(threads)
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        "--task",
        task_name,
        "--model",
        model_name,
        "--steps",
        str(steps),
        "--predict-rows",
        str(predict_rows),
        "--threads",
        str(threads),
    ]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if completed.returncode != 0:
        lines = [line for line in completed.stderr.strip().splitlines() if line.strip()]
        return {"error": lines[-1] if lines else f"exit status {completed.returncode}"}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _format_rate(value):
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def _table(results, threads, quick):
    # With one thread, CPU time is the cost of a step and is not inflated by
    # other processes on a shared machine; with more threads it would add up
    # the threads, so the ratios then use wall-clock time.
    key = "step_cpu_seconds" if threads == 1 else "step_seconds"
    basis = "CPU time" if threads == 1 else "wall-clock time"
    lines = [
        "# Training and prediction speed",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d} with `python benchmarks/bench_speed.py"
        f"{' --quick' if quick else ''} --threads {threads}` on {platform.machine()} "
        f"({os.cpu_count()} logical CPUs, {threads} thread(s)), Python {platform.python_version()}, "
        f"torch {_version('torch')}, pykan {_version('pykan')}, scikit-learn {_version('scikit-learn')}.",
        "",
        "Steps are Adam steps on one batch: median over the timed steps, after one warm-up step, of the "
        f"wall-clock time (steps/s) and of the process CPU time (ms/step). Ratios use the {basis}. "
        f"Prediction runs in batches of {PREDICT_BATCH:,} rows without gradients (wall-clock). "
        "Peak memory is the growth of the process's maximum resident set size (`ru_maxrss`) over the "
        "training steps, measured in a fresh process per model after the model and data exist: it "
        "counts activations, gradients, optimizer state and allocator overhead of a training step, "
        "as seen by the operating system (tracemalloc does not see torch's allocations).",
        "",
    ]
    for task_name, rows in results.items():
        task = TASKS[task_name]
        lines += [
            f"## Task `{task_name}`: {task['description']}, grid {task['grid_size']}, spline order {SPLINE_ORDER}",
            "",
            "| model | parameters | train steps/s | CPU ms/step | predict rows/s | peak train memory (MiB) "
            "| step time / skkan (fast) | step time per parameter / skkan (fast) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        fast = rows.get("skkan-fast", {})
        for model_name, row in rows.items():
            if "error" in row:
                lines.append(f"| {_LABELS[model_name]} | | could not run: {row['error']} | | | | | |")
                continue
            ratio = per_parameter = ""
            if key in fast:
                ratio = f"{row[key] / fast[key]:.2f}"
                per_parameter = f"{(row[key] / row['parameters']) / (fast[key] / fast['parameters']):.2f}"
            lines.append(
                f"| {_LABELS[model_name]} | {row['parameters']:,} | {_format_rate(1 / row['step_seconds'])} "
                f"| {1000 * row['step_cpu_seconds']:.1f} | {_format_rate(row['predict_rows_per_second'])} "
                f"| {row['peak_train_mib']:.1f} | {ratio} | {per_parameter} |"
            )
        lines += [""] + _summary(rows, key) + [""]
    return "\n".join(lines)


def _summary(rows, key):
    fast = rows.get("skkan-fast", {})
    if key not in fast:
        return ["skkan (fast) did not run."]
    lines = []
    for name, label in (("skkan-reference", "the reference path"), ("pykan", "pykan")):
        if key in rows.get(name, {}):
            lines.append(
                f"- skkan (fast) trains {rows[name][key] / fast[key]:.1f}x as fast as {label} "
                f"(step time ratio) and predicts "
                f"{fast['predict_rows_per_second'] / rows[name]['predict_rows_per_second']:.1f}x as many rows/s."
            )
    mlp = rows.get("torch-mlp", {})
    if key in mlp:
        per_parameter = (fast[key] / fast["parameters"]) / (mlp[key] / mlp["parameters"])
        lines.append(f"- Step time per trainable parameter, skkan (fast) / torch MLP: {per_parameter:.2f}.")
        if mlp["peak_train_mib"] > 0:
            lines.append(
                f"- Peak training memory, skkan (fast) / torch MLP: "
                f"{fast['peak_train_mib'] / mlp['peak_train_mib']:.2f} "
                f"({fast['peak_train_mib']:.1f} MiB against {mlp['peak_train_mib']:.1f} MiB)."
            )
    return lines


def _version(distribution):
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few steps and rows (under two minutes)")
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads per model (default 1)")
    parser.add_argument("--output", type=Path, help="also write the markdown table to this file")
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS))
    parser.add_argument("--models", nargs="+", choices=MODELS, default=MODELS)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per model before giving up")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--task", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--predict-rows", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.worker:
        _worker(arguments)
        return
    results = {}
    for task_name in arguments.tasks:
        results[task_name] = {}
        for model_name in arguments.models:
            slow = model_name in ("pykan", "skkan-reference") and task_name == "wide"
            steps = (2 if slow else 8) if arguments.quick else (10 if slow else 50)
            predict_rows = 10_000 if arguments.quick else 100_000
            print(f"{task_name:>5} {model_name:<16}", end=" ", flush=True)
            row = _measure(task_name, model_name, steps, predict_rows, arguments.threads, arguments.timeout)
            results[task_name][model_name] = row
            print(row.get("error") or f"{1 / row['step_seconds']:.2f} steps/s", flush=True)
    table = _table(results, arguments.threads, arguments.quick)
    print()
    print(table)
    if arguments.output is not None:
        arguments.output.parent.mkdir(parents=True, exist_ok=True)
        arguments.output.write_text(table + "\n")


if __name__ == "__main__":
    main()
