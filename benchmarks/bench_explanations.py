"""Cost of per-row explanations: predict_contributions against predict, on 10,000 rows.

Usage::

    python benchmarks/bench_explanations.py [--repeats 15] [--threads 2]

For default models fitted on synthetic tables of several widths (and the
additive model), it prints the median time of ``predict`` (``decision_function``
for classifiers) and of ``predict_contributions`` on 10,000 rows, their
ratio, and the largest gap between the contributions' row sums and the
prediction. The first ``predict_contributions`` call also computes the
background statistics (cached for the fitted network); it is reported
separately. The machine is shared and noisy: medians of ``--repeats`` calls.
"""

import argparse
import time
import warnings

import numpy as np
import torch

from skkan import KANClassifier, KANRegressor

CASES = [
    ("classifier, 14 inputs", KANClassifier, 14, {}),
    ("regressor, 14 inputs", KANRegressor, 14, {}),
    ("classifier, 50 inputs", KANClassifier, 50, {}),
    ("additive regressor, 14 inputs", KANRegressor, 14, {"interaction_cst": "no_interactions"}),
]


def _median_seconds(function, rows, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(rows)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    print(
        f"{'model':32s} {'predict ms':>10s} {'contrib ms':>10s} {'ratio':>6s} {'first ms':>9s} {'max |sum-pred|':>15s}"
    )
    for name, cls, n_features, params in CASES:
        X = rng.normal(size=(13_000, n_features))
        signal = X[:, 0] + X[:, 1] * X[:, 2] + np.sin(X[:, 3])
        y = signal > 0 if cls is KANClassifier else signal
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = cls(random_state=0, **params).fit(X[:3000], y[:3000])
        rows = X[3000:]
        predict = model.decision_function if cls is KANClassifier else model.predict
        start = time.perf_counter()
        contributions = model.predict_contributions(rows)
        first = time.perf_counter() - start
        gap = float(np.abs(contributions.sum(axis=1) - predict(rows)).max())
        predict_time = _median_seconds(predict, rows, args.repeats)
        explain_time = _median_seconds(model.predict_contributions, rows, args.repeats)
        print(
            f"{name:32s} {1e3 * predict_time:10.1f} {1e3 * explain_time:10.1f} "
            f"{explain_time / predict_time:6.1f} {1e3 * first:9.1f} {gap:15.2e}"
        )


if __name__ == "__main__":
    main()
