"""Native missing values and categories against imputation and one-hot encoding.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_tabular.py [--samples 4000] [--seeds 0 1 2]

A synthetic classification task with what tabular data brings: a categorical
feature of 30 levels whose effect is its own (not ordered), and a numeric
feature missing in 20% of the rows, more often where the label is positive
(informative missingness). Three models:

* ``kan-native``: ``KANClassifier(categorical_features=[3])`` on the raw data;
* ``kan-onehot-impute``: one-hot encoding and mean imputation in front of
  ``KANClassifier()`` (what skkan needed before);
* ``hgb-native``: ``HistGradientBoostingClassifier(categorical_features=[3])``.

Reported: test accuracy (mean and spread over seeds) and the fit's process
CPU time, which other processes on a shared machine do not inflate.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from skkan import KANClassifier


def make_data(n_samples, seed):
    rng = np.random.default_rng(seed)
    numeric = rng.normal(size=(n_samples, 3))
    levels = rng.integers(0, 30, size=n_samples)
    effect = rng.normal(scale=1.5, size=30)[levels]
    logit = np.sin(2 * numeric[:, 0]) + numeric[:, 1] - 0.5 * numeric[:, 2] ** 2 + effect
    y = (logit + rng.logistic(scale=0.3, size=n_samples) > 0).astype(int)
    missing = rng.random(n_samples) < np.where(y == 1, 0.3, 0.1)
    numeric[missing, 1] = np.nan
    return np.column_stack([numeric, levels.astype(float)]), y


def models(seed):
    onehot = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), [3]), ("num", SimpleImputer(), [0, 1, 2])]
    )
    return {
        "kan-native": KANClassifier(categorical_features=[3], random_state=seed),
        "kan-onehot-impute": make_pipeline(onehot, KANClassifier(random_state=seed)),
        "hgb-native": HistGradientBoostingClassifier(categorical_features=[3], random_state=seed),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    results = {}
    for seed in args.seeds:
        X, y = make_data(args.samples, seed)
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=seed, stratify=y)
        for name, model in models(seed).items():
            start = time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X_train, y_train)
            cpu = time.process_time() - start
            results.setdefault(name, []).append((model.score(X_test, y_test), cpu))
    print(f"| model | test accuracy (mean ± sd over {len(args.seeds)} seeds) | fit CPU s (mean) |")
    print("|---|---|---|")
    for name, runs in results.items():
        accuracy, cpu = np.array(runs).T
        print(f"| {name} | {accuracy.mean():.4f} ± {accuracy.std():.4f} | {cpu.mean():.1f} |")


if __name__ == "__main__":
    main()
