"""Wall time of one small GridSearchCV: serial (n_jobs=1) versus a local Dask cluster.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_dask_search.py [--workers 2] [--repeats 3]

The Dask runs go through joblib's dask backend on a ``LocalCluster`` with one
thread per worker, first with worker processes (what a multi-node cluster
looks like) and then with in-process worker threads. Cluster start-up is
excluded from the timings; the first (warm-up) search on each cluster is
excluded too, because it pays for imports and data transfer once. The best
of ``--repeats`` runs is reported, since the other processes on a shared
machine only ever make a run slower.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skkan import KANRegressor


def _problem(n_samples=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n_samples, 4))
    y = np.sin(np.pi * X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.normal(size=n_samples)
    return X, y


def _search(n_jobs):
    grid = {"grid_size": [3, 5, 8], "hidden_layer_sizes": [(4,), (8,)]}
    estimator = KANRegressor(max_iter=30, random_state=0)
    return GridSearchCV(estimator, grid, cv=3, n_jobs=n_jobs)


def _best_time(run, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)

    import joblib
    from distributed import Client, LocalCluster

    X, y = _problem()
    n_fits = 6 * 3
    serial_time, serial = _best_time(lambda: _search(1).fit(X, y), args.repeats)
    print(f"serial n_jobs=1: {serial_time:.2f} s for {n_fits} fits (+1 refit)")

    for processes in (True, False):
        kind = "processes" if processes else "threads"
        with (
            LocalCluster(
                n_workers=args.workers,
                threads_per_worker=1,
                processes=processes,
                dashboard_address=None,
                silence_logs=40,
            ) as cluster,
            Client(cluster),
        ):

            def on_dask():
                with joblib.parallel_config(backend="dask"):
                    return _search(-1).fit(X, y)

            on_dask()  # warm-up
            dask_time, result = _best_time(on_dask, args.repeats)
        same = np.array_equal(result.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"])
        print(
            f"dask {args.workers} worker {kind} x 1 thread: {dask_time:.2f} s "
            f"(speed-up {serial_time / dask_time:.2f}x, identical scores: {same})"
        )


if __name__ == "__main__":
    main()
