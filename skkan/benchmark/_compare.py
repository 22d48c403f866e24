"""Models compared across data sets: mean ranks, pairwise win rates and fit times.

Each comparison is a list of markdown lines for the report (:mod:`._report`).
The main score of a task is higher-is-better (R², accuracy), so that
regression and classification runs can be pooled.
"""

import math
from collections import defaultdict

import numpy as np

__all__ = ["MAIN_SCORE", "rank_table", "win_rate_table", "fit_time_table"]

MAIN_SCORE = {"regression": ("r2", "R²"), "classification": ("accuracy", "accuracy")}
"""Column and label of each task's main score (higher is better)."""

_REFERENCE_MODEL = "hist_gbdt"


def _main_score(row):
    return row.get(MAIN_SCORE[row["task"]][0], math.nan)


def rank_table(entries, task, scope=""):
    """Average rank of each model by its main score over the data sets (1 = best).

    Parameters
    ----------
    entries : list of dict
        Summary entries (:func:`skkan.benchmark.summarize`) of one task.
    task : {"regression", "classification"}
    scope : str, default=""
        Word before "data sets" in the heading (e.g. "held-out").
    """
    score, label = MAIN_SCORE[task]
    ranks = defaultdict(list)
    datasets = list(dict.fromkeys(e["dataset"] for e in entries))
    for dataset in datasets:
        group = [e for e in entries if e["dataset"] == dataset and not math.isnan(e[f"{score}_mean"])]
        ordered = sorted(group, key=lambda e: -e[f"{score}_mean"])
        for rank, entry in enumerate(ordered, start=1):
            ranks[entry["model"]].append(rank)
    if not ranks:
        return []
    heading = f"Average rank by {label} over {len(datasets)} {scope + ' ' if scope else ''}data sets (1 = best):"
    lines = [heading, "", "| model | mean rank | data sets won |", "|---|---|---|"]
    for model, values in sorted(ranks.items(), key=lambda item: np.mean(item[1])):
        lines.append(f"| {model} | {np.mean(values):.2f} | {sum(v == 1 for v in values)} |")
    return lines + [""]


def _scores_by_run(rows):
    """Main score of every successful run: {(dataset, seed): {model: score}}."""
    scores = defaultdict(dict)
    for row in rows:
        score = _main_score(row)
        if row["status"] == "ok" and not math.isnan(score):
            scores[(row["dataset"], int(row["seed"]))][row["model"]] = score
    return scores


def win_rates(rows):
    """How often each model beats each other: ``(models, rates)``, ``rates[i, j]`` for model i against j.

    A win is a higher main score on the same data set and seed (the same
    train/test split); a tie counts half. Only the runs that both models
    finished are compared; NaN on the diagonal and where no run is shared.
    """
    scores = _scores_by_run(rows)
    models = list(dict.fromkeys(model for by_model in scores.values() for model in by_model))
    rates = np.full((len(models), len(models)), np.nan)
    for i, model in enumerate(models):
        for j, other in enumerate(models):
            pairs = [s for s in scores.values() if model in s and other in s]
            if other != model and pairs:
                wins = sum((s[model] > s[other]) + 0.5 * (s[model] == s[other]) for s in pairs)
                rates[i, j] = wins / len(pairs)
    return models, rates


def win_rate_table(rows):
    """Markdown matrix of :func:`win_rates`: how often each model (row) beats each other model (column)."""
    models, rates = win_rates(rows)
    if len(models) < 2:
        return []
    lines = [
        f"Win rate by {' / '.join(label for _, label in MAIN_SCORE.values())}: share of (data set, seed) pairs "
        "where the row's model scores higher than the column's (ties count half; only runs that both finished):",
        "",
        "| model | " + " | ".join(models) + " |",
        "|---|" + "---|" * len(models),
    ]
    for i, model in enumerate(models):
        cells = ["—" if i == j else ("n/a" if np.isnan(rate) else f"{rate:.2f}") for j, rate in enumerate(rates[i])]
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return lines + [""]


def _ratio(value):
    return f"{value:.2f}" if value < 10 else f"{value:,.0f}"


def fit_time_table(rows):
    """Markdown table: median fit time of each model over its successful runs, and its ratio to hist_gbdt's."""
    times = defaultdict(list)
    for row in rows:
        if row["status"] == "ok" and not math.isnan(row.get("fit_time", math.nan)):
            times[row["model"]].append(row["fit_time"])
    if not times:
        return []
    medians = {model: float(np.median(values)) for model, values in times.items()}
    reference = medians.get(_REFERENCE_MODEL)
    header = "| model | runs | median fit s |" + (f" × {_REFERENCE_MODEL} |" if reference else "")
    lines = [
        "Median fit time over all successful runs (data sets × seeds)"
        + (f", and its ratio to {_REFERENCE_MODEL}'s median:" if reference else ":"),
        "",
        header,
        "|---|---|---|" + ("---|" if reference else ""),
    ]
    for model, median in sorted(medians.items(), key=lambda item: item[1]):
        line = f"| {model} | {len(times[model])} | {median:.2f} |"
        lines.append(line + (f" {_ratio(median / reference)} |" if reference else ""))
    return lines + [""]
