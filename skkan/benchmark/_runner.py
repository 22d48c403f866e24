"""Run data sets x models x seeds, appending one CSV row per finished run."""

import csv
import json
import math
import os
import time
import warnings
from numbers import Integral
from pathlib import Path

import numpy as np

from ._datasets import get_datasets, subsample
from ._models import ModelUnavailable, build_model, count_parameters, get_models

__all__ = ["run_benchmark", "read_results", "RESULT_COLUMNS"]

RESULT_COLUMNS = [
    "dataset",
    "task",
    "model",
    "seed",
    "status",
    "n_train",
    "n_test",
    "n_features",
    "rmse",
    "r2",
    "accuracy",
    "log_loss",
    "roc_auc",
    "fit_time",
    "predict_time",
    "n_params",
    "params_kind",
    "best_params",
]
# Columns read back as numbers: all but these.
_TEXT_COLUMNS = frozenset({"dataset", "task", "model", "status", "params_kind", "best_params"})
_NUMERIC_COLUMNS = frozenset(RESULT_COLUMNS) - _TEXT_COLUMNS
_CONFIG_KEYS = ("max_rows", "test_size", "n_threads", "param_grids")


def _key(row):
    return (str(row["dataset"]), str(row["model"]), int(row["seed"]))


def read_results(path):
    """Rows of a results CSV as a list of dicts (numbers parsed), [] if absent."""
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            for name in _NUMERIC_COLUMNS & row.keys():
                value = row[name]
                row[name] = float(value) if value not in ("", None) else math.nan
            row["seed"] = int(row["seed"])
            rows.append(row)
    return rows


def _append_row(path, row):
    new_file = not path.exists() or path.stat().st_size == 0
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=RESULT_COLUMNS)
        if new_file:
            writer.writeheader()
        writer.writerow({name: row.get(name, "") for name in RESULT_COLUMNS})
        handle.flush()
        os.fsync(handle.fileno())


def _scores(task, model, X_test, y_test):
    from sklearn import metrics

    start = time.perf_counter()
    if task == "regression":
        prediction = model.predict(X_test)
        predict_time = time.perf_counter() - start
        return {
            "rmse": float(np.sqrt(metrics.mean_squared_error(y_test, prediction))),
            "r2": float(metrics.r2_score(y_test, prediction)),
        }, predict_time
    proba = model.predict_proba(X_test)
    labels = model.classes_[np.argmax(proba, axis=1)]
    predict_time = time.perf_counter() - start
    classes = list(model.classes_)
    if len(classes) == 2:
        auc = metrics.roc_auc_score(y_test == classes[1], proba[:, 1])
    else:
        auc = metrics.roc_auc_score(y_test, proba, multi_class="ovr", average="macro", labels=classes)
    return {
        "accuracy": float(metrics.accuracy_score(y_test, labels)),
        "log_loss": float(metrics.log_loss(y_test, np.clip(proba, 1e-15, 1), labels=classes)),
        "roc_auc": float(auc),
    }, predict_time


def _progress(total, initial, enabled):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=initial, unit="run", dynamic_ncols=True)


def _check_config(output_dir, config, overwrite):
    path = output_dir / "config.json"
    results = output_dir / "results.csv"
    if overwrite:
        results.unlink(missing_ok=True)
    elif path.exists() and results.exists():
        previous = json.loads(path.read_text())
        changed = [k for k in _CONFIG_KEYS if previous.get(k) != config.get(k)]
        if changed:
            raise ValueError(
                f"{output_dir} holds results of another configuration (differs in {', '.join(changed)}); "
                "use another output directory or overwrite=True (--overwrite)."
            )
    path.write_text(json.dumps(config, indent=2) + "\n")


def run_benchmark(
    datasets,
    models,
    seeds=(0, 1, 2),
    output_dir="benchmark_results",
    *,
    max_rows=10_000,
    test_size=0.25,
    n_threads=1,
    param_grids=None,
    overwrite=False,
    progress=True,
    log=print,
):
    """Fit and score every model on every data set for every seed.

    Each finished ``(dataset, model, seed)`` run is appended to
    ``output_dir/results.csv`` at once, and runs already there are skipped, so
    an interrupted benchmark resumes where it stopped. A model whose library
    is not installed is skipped with a note; a run that raises is recorded
    with ``status`` set to the error.

    Parameters
    ----------
    datasets : list of str or Dataset
        Data sets (names from :data:`skkan.benchmark.DATASETS`).
    models : list of str or ModelSpec
        Models (names from :data:`skkan.benchmark.MODELS`).
    seeds : sequence of int, default=(0, 1, 2)
        Each seed draws a train/test split and seeds the models.
    output_dir : str or path, default="benchmark_results"
        Where ``results.csv`` and ``config.json`` are written.
    max_rows : int or None, default=10_000
        Larger data sets are subsampled (once, stratified) to this many rows
        before splitting; None keeps every row.
    test_size : float, default=0.25
        Share of the rows held out for scoring (stratified for classifiers).
    n_threads : int, default=1
        Threads given to every library (torch, OpenMP, LightGBM, XGBoost),
        so that fit times compare models, not thread counts.
    param_grids : dict or None, default=None
        Replacement grids by model name (e.g. a smaller KAN grid).
    overwrite : bool, default=False
        Discard earlier results in ``output_dir`` instead of resuming.
    progress : bool, default=True
        Show a tqdm progress bar (if tqdm is installed) or one line per run.
    log : callable, default=print
        Receives notes (skipped models, errors, per-run lines without tqdm).

    Returns
    -------
    rows : list of dict
        All result rows in ``results.csv`` (earlier and new).
    notes : list of str
        Skipped models and failed runs.
    """
    import torch
    from sklearn.model_selection import train_test_split
    from threadpoolctl import threadpool_limits

    if max_rows is not None and (isinstance(max_rows, bool) or not isinstance(max_rows, Integral) or max_rows < 1):
        raise ValueError(f"max_rows must be a positive integer or None (every row), got {max_rows!r}.")
    datasets, models = get_datasets(datasets), get_models(models)
    seeds = [int(s) for s in seeds]
    param_grids = dict(param_grids or {})
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "max_rows": max_rows,
        "test_size": test_size,
        "n_threads": n_threads,
        "param_grids": json.loads(json.dumps(param_grids, default=str)),
        "datasets": [d.name for d in datasets],
        "models": [m.name for m in models],
        "seeds": seeds,
    }
    _check_config(output_dir, config, overwrite)
    results_path = output_dir / "results.csv"
    done = {_key(row) for row in read_results(results_path)}
    total = len(datasets) * len(models) * len(seeds)
    todo = [(d, m, s) for d in datasets for m in models for s in seeds if (d.name, m.name, s) not in done]
    if done:
        log(f"Resuming: {total - len(todo)} of {total} runs already in {results_path}.")
    notes_path = output_dir / "notes.json"
    notes = json.loads(notes_path.read_text()) if done and notes_path.exists() else []
    unavailable = {}
    bar = _progress(total, total - len(todo), progress)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    loaded = {}
    try:
        with threadpool_limits(limits=n_threads):
            for dataset, spec, seed in todo:
                if bar is not None:
                    bar.set_description(f"{dataset.name}/{spec.name}/seed {seed}")
                if spec.name in unavailable:
                    if bar is not None:
                        bar.update(1)
                    continue
                if dataset.name not in loaded:
                    loaded = {dataset.name: subsample(*dataset.load(), max_rows, dataset.task)}
                X, y = loaded[dataset.name]
                if dataset.task == "classification":
                    # Integer labels 0..k-1 for every model (XGBoost accepts nothing else).
                    y = np.unique(np.asarray(y, dtype=str), return_inverse=True)[1]
                try:
                    model = build_model(spec, dataset.task, seed, n_threads, param_grids.get(spec.name))
                except ModelUnavailable as exc:
                    unavailable[spec.name] = str(exc)
                    notes.append(f"skipped {spec.name}: {exc}")
                    log(f"Skipping model {spec.name}: {exc}")
                    if bar is not None:
                        bar.update(1)
                    continue
                stratify = y if dataset.task == "classification" else None
                X_train, X_test, y_train, y_test = train_test_split(
                    X, y, test_size=test_size, random_state=seed, stratify=stratify
                )
                row = {
                    "dataset": dataset.name,
                    "task": dataset.task,
                    "model": spec.name,
                    "seed": seed,
                    "n_train": len(X_train),
                    "n_test": len(X_test),
                    "n_features": X.shape[1],
                }
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        start = time.perf_counter()
                        model.fit(X_train, y_train)
                        row["fit_time"] = time.perf_counter() - start
                        scores, row["predict_time"] = _scores(dataset.task, model, X_test, y_test)
                    row.update(scores)
                    row["n_params"], row["params_kind"] = count_parameters(model)
                    if hasattr(model, "best_params_"):
                        row["best_params"] = json.dumps(
                            {k.rsplit("__", 1)[-1]: v for k, v in model.best_params_.items()}, default=str
                        )
                    row["status"] = "ok"
                except Exception as exc:  # a failed run is a result, not the end of the benchmark
                    row["status"] = f"error: {type(exc).__name__}: {exc}"[:300]
                    notes.append(f"{dataset.name}/{spec.name}/seed {seed}: {row['status']}")
                    log(f"Run {dataset.name}/{spec.name}/seed {seed} failed: {row['status']}")
                _append_row(results_path, row)
                if bar is not None:
                    bar.update(1)
                elif progress:
                    score = row.get("r2", row.get("accuracy", math.nan))
                    log(
                        f"[{len(read_results(results_path))}/{total}] {dataset.name} {spec.name} seed={seed}: "
                        f"{'R2' if dataset.task == 'regression' else 'acc'}={score:.4f} "
                        f"fit={row.get('fit_time', math.nan):.1f}s"
                    )
    finally:
        torch.set_num_threads(previous_threads)
        if bar is not None:
            bar.close()
    notes = list(dict.fromkeys(notes))
    notes_path.write_text(json.dumps(notes, indent=2) + "\n")
    return read_results(results_path), notes
