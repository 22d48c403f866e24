"""Poker hands with 25,010 training rows: a KAN on categorical cards against trees and an MLP.

The hands are those of ``skkan-benchmark --datasets poker`` (33,347 deals,
seed 0; the first 25,010 train, as many as the UCI training file, the rest
test). Each card's suit and rank are given to the models three ways:

* ``codes``: the UCI file's numbers (suit 1-4, rank 1-13) as numeric inputs;
* ``one-hot``: every suit and rank one-hot encoded (85 inputs);
* ``native``: the codes declared categorical, for estimators that take
  categories themselves (``KANClassifier(categorical_features=...)``, whose
  first-layer edges become lookup tables, and HistGradientBoosting).

A pair is two cards of one rank: a hidden node that sums a rank's indicator
over the five cards counts that rank, and an edge after it can tell 2 from 3
or 4; the width has to hold the 13 ranks. Run::

    python benchmarks/bench_poker.py --threads 2

and read ``benchmarks/results/poker.md``.
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

_ROOT = Path(__file__).resolve().parents[1]
_N_HANDS, _N_TRAIN = 33_347, 25_010
_CARDS = list(range(10))


def _models():
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from skkan import KANClassifier

    def one_hot(model):
        return make_pipeline(OneHotEncoder(sparse_output=False), model)

    return {
        "KAN defaults, codes": lambda: KANClassifier(random_state=0),
        "KAN defaults, native": lambda: KANClassifier(categorical_features=_CARDS, random_state=0),
        "KAN hidden (16,), native": lambda: KANClassifier(
            categorical_features=_CARDS, hidden_layer_sizes=(16,), random_state=0
        ),
        "KAN defaults, one-hot": lambda: one_hot(KANClassifier(random_state=0)),
        "KAN hidden (16,), one-hot": lambda: one_hot(KANClassifier(hidden_layer_sizes=(16,), random_state=0)),
        "HistGradientBoosting, codes": lambda: HistGradientBoostingClassifier(random_state=0),
        "HistGradientBoosting, native": lambda: HistGradientBoostingClassifier(
            categorical_features=_CARDS, random_state=0
        ),
        "HistGradientBoosting, one-hot": lambda: one_hot(HistGradientBoostingClassifier(random_state=0)),
        "MLP (100,), one-hot": lambda: one_hot(MLPClassifier(random_state=0)),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--output", type=Path, default=_ROOT / "benchmarks" / "results" / "poker.md")
    arguments = parser.parse_args(argv)
    import torch

    from skkan.benchmark._poker import make_poker_hands

    torch.set_num_threads(arguments.threads)
    X, y = make_poker_hands(_N_HANDS, random_state=0)
    X_train, X_test, y_train, y_test = X[:_N_TRAIN], X[_N_TRAIN:], y[:_N_TRAIN], y[_N_TRAIN:]
    lines = [
        "# Poker hands, 25,010 training rows",
        "",
        f"`python benchmarks/bench_poker.py --threads {arguments.threads}`: {_N_HANDS:,} hands "
        f"(seed 0), the first {_N_TRAIN:,} train and {_N_HANDS - _N_TRAIN:,} test; majority class "
        f'("nothing") {np.mean(y_test == 0):.3f} of the test hands. One fit per model (random_state=0).',
        "",
        "| model, inputs | test accuracy | train accuracy | fit s |",
        "|---|---:|---:|---:|",
    ]
    for name, build in _models().items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = build().fit(X_train, y_train)
        seconds = time.perf_counter() - start
        row = f"| {name} | {model.score(X_test, y_test):.4f} | {model.score(X_train, y_train):.4f} | {seconds:.1f} |"
        print(row, flush=True)
        lines.append(row)
    arguments.output.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
