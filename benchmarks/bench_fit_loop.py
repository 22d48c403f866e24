"""Time default fits end to end, to measure the training loop's overhead.

Fits ``KANRegressor()`` on a 10,000 x 8 synthetic regression and
``KANClassifier()`` on a 20,000 x 14 synthetic classification, with their
default parameters and ``random_state=0``, and prints the median over
``--repeats`` fits of the wall-clock time (``time.perf_counter``) and of the
process CPU time, with the iterations run and the training score.

```bash
OMP_NUM_THREADS=1 python benchmarks/bench_fit_loop.py --threads 1
```
"""

import argparse
import statistics
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from skkan import KANClassifier, KANRegressor


def _regression(n_samples=10_000, n_features=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n_samples, n_features))
    y = np.sin(np.pi * X[:, 0]) + X[:, 1] ** 2 + X[:, 2] * X[:, 3] + 0.1 * rng.normal(size=n_samples)
    return X, y


def _classification(n_samples=20_000, n_features=14, seed=0):
    return make_classification(n_samples, n_features, n_informative=8, n_classes=3, random_state=seed)


CASES = {
    "KANRegressor 10k x 8": (KANRegressor, _regression),
    "KANClassifier 20k x 14": (KANClassifier, _classification),
}


def _time_fit(estimator_class, X, y):
    estimator = estimator_class(random_state=0)
    wall, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)
    return time.perf_counter() - wall, time.process_time() - cpu, estimator


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--repeats", type=int, default=3, help="fits per case (default 3)")
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), median of {args.repeats} fits")
    print(f"{'case':<24} {'wall s':>8} {'cpu s':>8} {'n_iter':>7} {'train score':>12}")
    for name in args.cases:
        estimator_class, make_data = CASES[name]
        X, y = make_data()
        walls, cpus = [], []
        for _ in range(args.repeats):
            wall, cpu, estimator = _time_fit(estimator_class, X, y)
            walls.append(wall)
            cpus.append(cpu)
        score = estimator.score(X, y)
        print(
            f"{name:<24} {statistics.median(walls):8.2f} {statistics.median(cpus):8.2f} "
            f"{estimator.n_iter_:7d} {score:12.4f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
