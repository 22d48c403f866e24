"""End-to-end default fit time and held-out score on 50,000-row tables, against GBDTs and an MLP.

What a user pays in a grid search cell: one ``fit`` with default parameters.
Two synthetic tables of 50,000 rows (80 % train, 20 % test), generated as in
``bench_fit_loop.py``:

* classification, 14 features (8 informative), 3 classes
  (``sklearn.datasets.make_classification``, seed 0), scored by accuracy;
* regression, 8 features: ``sin(pi x0) + x1^2 + x2 x3 + 0.1 noise``, scored by R².

Models, all with default parameters and ``random_state=0``, built by the
benchmark package's factories (``skkan.benchmark._models``): skkan's estimator,
HistGradientBoosting, LightGBM (when installed) and scikit-learn's MLP. Every
library gets the same thread count (torch threads, and threadpoolctl for
OpenMP/BLAS). Repeats are interleaved (each round fits every model once), and
the table shows the median wall-clock fit time, its ratio to
HistGradientBoosting's, and the held-out score.

Before any timing, a small untimed skkan fit loads the compiled kernels
(numba's on-disk cache, about 3-4 s once per process, or their first
compilation): what a grid search pays once, not per cell. Its time is
printed.

```bash
python benchmarks/bench_end_to_end.py --threads 2 --repeats 3
```
"""

import argparse
import platform
import statistics
import time
import warnings
from pathlib import Path

import torch

# The tables of bench_fit_loop.py (this folder is on sys.path when a script in it runs), at 50,000 rows.
from bench_fit_loop import _classification, _regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from skkan.benchmark._models import MODELS, ModelUnavailable

_ROOT = Path(__file__).resolve().parents[1]


# The benchmark package's model factories: the same defaults as skkan-benchmark.
_MODEL_NAMES = {"kan": "skkan", "hist_gbdt": "HistGradientBoosting", "lightgbm": "LightGBM", "mlp": "sklearn MLP"}


def _models(task, threads):
    """Factories of the compared models, by display name; models whose library is missing are left out."""
    models = {}
    for name, label in _MODEL_NAMES.items():
        factory = MODELS[name].factory
        try:
            factory(task, 0, threads)
        except ModelUnavailable:
            continue
        models[label] = lambda factory=factory: factory(task, 0, threads)
    return models


def _fit_and_score(factory, X_train, y_train, X_test, y_test):
    estimator = factory()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X_train, y_train)
    elapsed = time.perf_counter() - start
    return elapsed, estimator.score(X_test, y_test)


def _warm_up(factory, X, y):
    """Fit a small copy of the data with Adam, untimed by the table: the kernels' one-time load."""
    estimator = factory().set_params(optimizer="adam", max_iter=2)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X[:1000], y[:1000])
    return time.perf_counter() - start


def run(task, n_samples, threads, repeats):
    """Fit every model ``repeats`` times (interleaved) and return one row per model."""
    X, y = (_classification if task == "classification" else _regression)(n_samples=n_samples)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    models = _models(task, threads)
    print(f"{task}: skkan warm-up fit (kernel load) {_warm_up(models['skkan'], X_train, y_train):.2f} s", flush=True)
    times = {name: [] for name in models}
    scores = {}
    for _ in range(repeats):
        for name, factory in models.items():
            elapsed, scores[name] = _fit_and_score(factory, X_train, y_train, X_test, y_test)
            times[name].append(elapsed)
    reference = statistics.median(times["HistGradientBoosting"])
    return [
        {
            "model": name,
            "fit_s": statistics.median(times[name]),
            "fit_vs_hgb": statistics.median(times[name]) / reference,
            "score": scores[name],
        }
        for name in models
    ]


def _table(task, n_samples, rows):
    metric = "accuracy" if task == "classification" else "R²"
    lines = [
        f"## {task}, {n_samples:,} rows ({int(0.8 * n_samples):,} train)",
        "",
        f"| model | fit s | fit / HGB | test {metric} |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {r['model']} | {r['fit_s']:.2f} | {r['fit_vs_hgb']:.1f} | {r['score']:.4f} |" for r in rows]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="threads for every library (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--n-samples", type=int, default=50_000, help="rows per table (default 50,000)")
    parser.add_argument(
        "--tasks", nargs="+", choices=["classification", "regression"], default=["classification", "regression"]
    )
    parser.add_argument("--output", type=Path, default=_ROOT / "benchmarks" / "results" / "end_to_end.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    header = (
        f"# End-to-end default fits\n\nMeasured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
        f"`python benchmarks/bench_end_to_end.py --threads {args.threads} --repeats {args.repeats}` on "
        f"{platform.machine()}, torch {torch.__version__}. Median wall-clock fit time of {args.repeats} interleaved "
        "rounds; the score is on the held-out 20 %."
    )
    sections = [header]
    with threadpool_limits(args.threads):
        for task in args.tasks:
            rows = run(task, args.n_samples, args.threads, args.repeats)
            sections.append(_table(task, args.n_samples, rows))
            print(sections[-1] + "\n", flush=True)
    args.output.write_text("\n\n".join(sections) + "\n")


if __name__ == "__main__":
    main()
