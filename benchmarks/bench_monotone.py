"""Monotonic constraints on real tables: accuracy against the unconstrained KAN, and violations on a dense grid.

Usage::

    pip install "skkan[benchmark]"
    python benchmarks/bench_monotone.py [--seeds 2]

For features that act monotonically by their meaning (a diamond's carat on
its price, years of education on a wage, the distance on a delivery time,
hindfoot length on a rodent's weight), it fits the default KAN with and
without ``monotonic_cst`` on that feature, through the benchmark's
preprocessing (one-hot categoricals, scaled numeric columns), on 10,000 rows
at most, and prints test scores side by side, with HistGradientBoosting
constrained the same way for reference. It then counts violations: on 10,000
rows (test rows, repeated as needed), the constrained feature swept over 200
values from far below to far above its range, every step where the
prediction moves against the constraint.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skkan import KANRegressor
from skkan.benchmark import get_datasets, make_preprocessor, subsample

CASES = [("diamonds", "carat", 1), ("cps1988", "education", 1), ("deliveries", "distance", 1)]
CASES += [("rodent_weight", "hindfoot_length", 1)]
N_ROWS, N_VALUES = 10_000, 200


def _model(estimator):
    preprocess = make_preprocessor().set_output(transform="pandas")
    pipeline = Pipeline([("preprocess", preprocess), ("model", estimator)])
    return TransformedTargetRegressor(regressor=pipeline, transformer=StandardScaler())


def _violations(model, X_rows, feature, direction):
    low, high = float(X_rows[feature].min()), float(X_rows[feature].max())
    span = high - low
    values = np.concatenate(
        [[low - 1e3 * span], np.linspace(low - span, high + span, N_VALUES - 2), [high + 1e3 * span]]
    )
    grid = X_rows.iloc[np.repeat(np.arange(X_rows.shape[0]), N_VALUES)].reset_index(drop=True)
    grid[feature] = np.tile(values, X_rows.shape[0])
    curves = model.predict(grid).reshape(X_rows.shape[0], N_VALUES)
    return int((np.diff(curves, axis=1) * direction < 0).sum())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    header = f"{'data':14s} {'feature':16s} {'seed':>4s} {'KAN R2':>8s} {'mono R2':>8s} {'HGB mono':>9s}"
    print(header + f" {'KAN s':>6s} {'mono s':>6s} {'violations':>10s}")
    for name, feature, direction in CASES:
        dataset = get_datasets([name])[0]
        X, y = dataset.load()
        X_used, y_used = subsample(X, y, N_ROWS, dataset.task)
        for seed in range(args.seeds):
            X_train, X_test, y_train, y_test = train_test_split(X_used, y_used, test_size=0.25, random_state=seed)
            constraint = {feature: direction}
            models = [
                _model(KANRegressor(random_state=seed, device="cpu")),
                _model(KANRegressor(random_state=seed, device="cpu", monotonic_cst=constraint)),
                _model(HistGradientBoostingRegressor(random_state=seed, monotonic_cst=constraint)),
            ]
            scores, times = [], []
            for model in models:
                start = time.perf_counter()
                model.fit(X_train, y_train)
                times.append(time.perf_counter() - start)
                scores.append(r2_score(y_test, model.predict(X_test)))
            rows = X_test.iloc[np.resize(np.arange(X_test.shape[0]), N_ROWS)].reset_index(drop=True)
            violations = _violations(models[1], rows, feature, direction)
            print(
                f"{name:14s} {feature:16s} {seed:4d} {scores[0]:8.4f} {scores[1]:8.4f} {scores[2]:9.4f} "
                f"{times[0]:6.1f} {times[1]:6.1f} {violations:10d}",
                flush=True,
            )


if __name__ == "__main__":
    main()
