"""Accuracy bar of the core estimators, with fit times.

Two parts, printed as tables and written to ``benchmarks/results/accuracy.md``:

1. The KAN paper's toy function ``f(x, y) = exp(sin(pi x) + y^2)``: 1,000
   training and 1,000 test points uniform on [-1, 1]^2, a ``[2, 1, 1]`` KAN
   (``hidden_layer_sizes=(1,)``) trained with L-BFGS through a grid
   extension schedule, over several seeds; test RMSE per seed.
2. ``load_diabetes`` and ``load_breast_cancer`` with default settings,
   against scikit-learn's ``MLPRegressor`` / ``MLPClassifier`` (behind a
   ``StandardScaler``, as their docs recommend) on the same splits.

Run from the repository root::

    python benchmarks/bench_accuracy.py            # about 5 minutes on 2 cores
    python benchmarks/bench_accuracy.py --quick    # one seed each
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skkan import KANClassifier, KANRegressor

GRID_SCHEDULE = (10, 20, 50)


def _toy_function(X):
    return np.exp(np.sin(np.pi * X[:, 0]) + X[:, 1] ** 2)


def _timed_fit(model, X, y):
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


def toy_rows(seeds, dtypes):
    rng = np.random.default_rng(0)
    X_train, X_test = rng.uniform(-1, 1, (1000, 2)), rng.uniform(-1, 1, (1000, 2))
    y_train, y_test = _toy_function(X_train), _toy_function(X_test)
    rows = []
    for dtype in dtypes:
        for seed in seeds:
            model = KANRegressor(
                hidden_layer_sizes=(1,),
                grid_size=5,
                grid_extension=GRID_SCHEDULE,
                optimizer="lbfgs",
                early_stopping=False,
                max_iter=50,
                dtype=dtype,
                random_state=seed,
            )
            seconds = _timed_fit(model, X_train, y_train)
            rmse = float(np.sqrt(np.mean((model.predict(X_test) - y_test) ** 2)))
            rows.append((dtype, seed, rmse, seconds, model.n_params_))
            print(f"toy dtype={dtype} seed={seed}: test RMSE {rmse:.2e}, fit {seconds:.1f} s", flush=True)
    return rows


def tabular_rows(seeds):
    tasks = [
        ("diabetes (R²)", load_diabetes, KANRegressor, lambda s: MLPRegressor(random_state=s, max_iter=2000)),
        (
            "breast_cancer (accuracy)",
            load_breast_cancer,
            KANClassifier,
            lambda s: MLPClassifier(random_state=s, max_iter=2000),
        ),
    ]
    rows = []
    for name, loader, kan_class, make_mlp in tasks:
        X, y = loader(return_X_y=True)
        scores = {"KAN (defaults)": [], "sklearn MLP": []}
        times = {"KAN (defaults)": [], "sklearn MLP": []}
        for seed in seeds:
            X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=seed)
            for label, model in (
                ("KAN (defaults)", kan_class(random_state=seed)),
                ("sklearn MLP", make_pipeline(StandardScaler(), make_mlp(seed))),
            ):
                times[label].append(_timed_fit(model, X_train, y_train))
                scores[label].append(model.score(X_test, y_test))
        for label in scores:
            rows.append((name, label, np.mean(scores[label]), np.std(scores[label]), np.mean(times[label])))
            print(f"{name} {label}: {np.mean(scores[label]):.3f} ± {np.std(scores[label]):.3f}", flush=True)
    return rows


def _markdown(toy, tabular, n_seeds):
    lines = [
        f"Toy function exp(sin(pi x) + y^2), KANRegressor(hidden_layer_sizes=(1,), grid_size=5, "
        f"grid_extension={GRID_SCHEDULE}, optimizer='lbfgs', early_stopping=False, max_iter=50)",
        "",
        "| dtype | seed | test RMSE | fit time (s) | trainable params |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {d} | {s} | {r:.2e} | {t:.1f} | {p} |" for d, s, r, t, p in toy]
    lines += [
        "",
        f"Tabular data, default settings, 25% test split, mean ± std over {n_seeds} seeds",
        "",
        "| dataset (metric) | model | test score | fit time (s) |",
        "|---|---|---|---|",
    ]
    lines += [f"| {n} | {m} | {mean:.3f} ± {std:.3f} | {t:.2f} |" for n, m, mean, std, t in tabular]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed per experiment")
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "accuracy.md"))
    args = parser.parse_args(argv)
    seeds = [0] if args.quick else list(range(5))
    warnings.simplefilter("ignore", ConvergenceWarning)
    toy = toy_rows(seeds, ("float64",) if args.quick else ("float64", "float32"))
    tabular = tabular_rows(seeds)
    report = _markdown(toy, tabular, len(seeds))
    print(report)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(report)


if __name__ == "__main__":
    main()
