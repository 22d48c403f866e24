"""Summaries of benchmark results: JSON, a markdown table (mean ± std) and plots.

Under the tables, the markdown compares the models across data sets (mean
ranks, per data set group when tuning and held-out sets are both present;
pairwise win rates; median fit times, see :mod:`._compare`).

With a single seed there is no spread to report: its standard deviation is
NaN (``null`` in JSON) and the table and plots show the score alone.
"""

import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from ._compare import MAIN_SCORE, fit_time_table, rank_table, win_rate_table, win_rates
from ._datasets import dataset_group

__all__ = ["summarize", "write_report"]

# (column, header, higher_is_better, format) per task.
_METRICS = {
    "regression": [("r2", "R²", True, "{:.4f}"), ("rmse", "RMSE", False, "{:.4g}")],
    "classification": [
        ("accuracy", "accuracy", True, "{:.4f}"),
        ("log_loss", "log-loss", False, "{:.4f}"),
        ("roc_auc", "ROC-AUC", True, "{:.4f}"),
    ],
}
_COSTS = [("fit_time", "fit s", "{:.2f}"), ("predict_time", "predict s", "{:.3f}"), ("n_params", "params", "{:.0f}")]


def _mean_std(values):
    values = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if values.size == 0:
        return math.nan, math.nan
    # One value has no sample standard deviation (ddof=1); NaN rather than a
    # misleading "± 0".
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else math.nan


def summarize(rows):
    """Mean and standard deviation over seeds per ``(dataset, model)``.

    Returns a list of dicts with ``dataset``, ``task``, ``model``,
    ``n_seeds`` and ``<metric>_mean`` / ``<metric>_std`` for every metric and
    cost; failed runs are left out (``n_failed`` counts them). The standard
    deviation is NaN when fewer than two seeds succeeded.
    """
    groups = defaultdict(list)
    failed = defaultdict(int)
    order = []
    for row in rows:
        key = (row["dataset"], row["task"], row["model"])
        if key not in groups and key not in failed:
            order.append(key)
        if row["status"] == "ok":
            groups[key].append(row)
        else:
            failed[key] += 1
    summary = []
    for dataset, task, model in order:
        runs = groups.get((dataset, task, model), [])
        entry = {
            "dataset": dataset,
            "task": task,
            "model": model,
            "n_seeds": len(runs),
            "n_failed": failed.get((dataset, task, model), 0),
        }
        names = [m[0] for m in _METRICS[task]] + [c[0] for c in _COSTS]
        for name in names:
            entry[f"{name}_mean"], entry[f"{name}_std"] = _mean_std([r[name] for r in runs])
        summary.append(entry)
    return summary


def _cell(entry, name, fmt, best=False):
    mean, std = entry[f"{name}_mean"], entry[f"{name}_std"]
    if math.isnan(mean):
        return "n/a"
    text = fmt.format(mean) if name == "n_params" or math.isnan(std) else f"{fmt.format(mean)} ± {fmt.format(std)}"
    return f"**{text}**" if best else text


def _markdown(summary, rows, notes, title):
    lines = [f"# {title}", ""]
    for task in ("regression", "classification"):
        entries = [e for e in summary if e["task"] == task]
        if not entries:
            continue
        metrics = _METRICS[task]
        header = ["dataset", "model", *[m[1] for m in metrics], *[c[1] for c in _COSTS]]
        lines += [f"## {task.capitalize()}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for dataset in dict.fromkeys(e["dataset"] for e in entries):
            group = [e for e in entries if e["dataset"] == dataset]
            best = {}
            for name, _, higher, _ in metrics:
                means = [e[f"{name}_mean"] for e in group if not math.isnan(e[f"{name}_mean"])]
                if means:
                    best[name] = max(means) if higher else min(means)
            for entry in group:
                cells = [dataset, entry["model"]]
                for name, _, _, fmt in metrics:
                    cells.append(_cell(entry, name, fmt, entry[f"{name}_mean"] == best.get(name)))
                cells += [_cell(entry, name, fmt) for name, _, fmt in _COSTS]
                if entry["n_failed"]:
                    cells[1] += f" ({entry['n_failed']} failed)"
                lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        lines += rank_table(entries, task)
        groups = defaultdict(list)
        for entry in entries:
            groups[dataset_group(entry["dataset"])].append(entry)
        if len(groups) > 1:
            lines += rank_table(groups["tuning"], task, "tuning")
            lines += rank_table(groups["held_out"], task, "held-out")
    lines += win_rate_table(rows) + fit_time_table(rows)
    held_out = any(dataset_group(e["dataset"]) == "held_out" for e in summary)
    lines += [
        f"{_seeds_note(summary)}. Times are seconds on the machine that ran the benchmark. `params` counts "
        "trainable parameters (KAN: `n_params_`; MLP and RealMLP: weights and biases; linear: coefficients; EBM: "
        "cells of its additive term tables); for gradient-boosted trees it is the number of tree nodes (one "
        "threshold or leaf value each)."
        + (" Held-out data sets were never used to choose the defaults." if held_out else ""),
        "",
    ]
    if notes:
        lines += ["Notes:", ""] + [f"- {note}" for note in notes] + [""]
    return "\n".join(lines)


def _seeds_note(summary):
    """How the table's numbers were aggregated over seeds (train/test splits)."""
    seeds = sorted({e["n_seeds"] for e in summary if e["n_seeds"]}) or [0]
    if seeds == [1]:
        return "One seed (one train/test split per data set); best score per data set in bold"
    note = f"Mean ± standard deviation over {'/'.join(map(str, seeds))} seeds (train/test splits)"
    if 1 in seeds:
        note += ", the score alone where only one seed succeeded"
    return note + "; best mean score per data set in bold"


def _plots(summary, rows, output_dir):
    try:
        import matplotlib
    except ImportError:
        return []
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    models = list(dict.fromkeys(e["model"] for e in summary))
    colors = {m: plt.get_cmap("tab10")(i % 10) for i, m in enumerate(models)}
    for task in ("regression", "classification"):
        entries = [e for e in summary if e["task"] == task and e["n_seeds"]]
        datasets = list(dict.fromkeys(e["dataset"] for e in entries))
        if not datasets:
            continue
        score, score_label = MAIN_SCORE[task]
        costs = [("fit_time", "fit time (s)", "fit_time"), ("n_params", "trainable parameters", "params")]
        for cost, cost_label, stem in costs:
            n_cols = min(len(datasets), 4)
            n_rows = math.ceil(len(datasets) / n_cols)
            fig, axes = plt.subplots(n_rows, n_cols, figsize=(3.6 * n_cols + 1.6, 3.2 * n_rows + 0.4), squeeze=False)
            for ax, dataset in zip(axes.ravel(), datasets):
                for entry in (e for e in entries if e["dataset"] == dataset):
                    x, y = entry[f"{cost}_mean"], entry[f"{score}_mean"]
                    if math.isnan(x) or math.isnan(y) or x <= 0:
                        continue
                    spread = entry[f"{score}_std"]
                    ax.errorbar(
                        x,
                        y,
                        yerr=None if math.isnan(spread) else spread,
                        fmt="o",
                        color=colors[entry["model"]],
                        label=entry["model"],
                        capsize=2,
                    )
                ax.set_xscale("log")
                ax.set_title(dataset)
                ax.set_xlabel(cost_label)
                ax.set_ylabel(score_label)
                ax.grid(alpha=0.3)
            for ax in axes.ravel()[len(datasets) :]:
                ax.set_visible(False)
            handles = [plt.Line2D([], [], marker="o", ls="", color=colors[m], label=m) for m in models]
            legend_width = 1.5 / fig.get_figwidth()
            fig.legend(handles=handles, loc="center right", frameon=False)
            single = all(e["n_seeds"] == 1 for e in entries)
            aggregate = "one seed" if single else "mean and std over seeds"
            fig.suptitle(f"{task.capitalize()}: {score_label} vs {cost_label} ({aggregate})")
            fig.tight_layout(rect=(0, 0, 1 - legend_width, 1))
            path = Path(output_dir) / f"{task}_score_vs_{stem}.png"
            fig.savefig(path, dpi=100)
            plt.close(fig)
            paths.append(path)
    return paths + _win_rate_plot(rows, output_dir, plt)


def _win_rate_plot(rows, output_dir, plt):
    """Heatmap of the win rates (:func:`~skkan.benchmark._compare.win_rates`), models by mean win rate."""
    models, rates = win_rates(rows)
    if len(models) < 2:
        return []
    order = np.argsort(-np.nanmean(rates, axis=1))
    rates, models = rates[np.ix_(order, order)], [models[i] for i in order]
    fig, ax = plt.subplots(figsize=(1.0 * len(models) + 2.5, 0.8 * len(models) + 1.5))
    image = ax.imshow(rates, cmap="RdBu", vmin=0, vmax=1)
    for i in range(len(models)):
        for j in range(len(models)):
            if not np.isnan(rates[i, j]):
                ax.text(j, i, f"{rates[i, j]:.2f}", ha="center", va="center", fontsize=9)
    ax.set_xticks(range(len(models)), models, rotation=45, ha="right")
    ax.set_yticks(range(len(models)), models)
    ax.set_xlabel("against")
    ax.set_title("Share of (data set, seed) pairs where the row's model scores higher")
    fig.colorbar(image, ax=ax, shrink=0.8)
    fig.tight_layout()
    path = Path(output_dir) / "win_rates.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [path]


def _json_ready(record):
    """NaN (no value) becomes null."""
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()}


def write_report(rows, output_dir, notes=(), title="skkan tabular benchmark"):
    """Write ``results.json``, ``summary.md``, ``summary.json`` and the plots.

    Parameters
    ----------
    rows : list of dict
        Result rows, as returned by :func:`skkan.benchmark.run_benchmark`.
    output_dir : str or path
        Directory to write to.
    notes : sequence of str, default=()
        Lines added under the table (skipped models, failures).
    title : str
        Heading of the markdown summary.

    Returns
    -------
    paths : dict
        Paths of the written files by kind (``"json"``, ``"markdown"``,
        ``"summary_json"``, ``"plots"``).
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    json_path = output_dir / "results.json"
    json_path.write_text(json.dumps([_json_ready(row) for row in rows], indent=1) + "\n")
    summary = summarize(rows)
    summary_path = output_dir / "summary.json"
    summary_path.write_text(json.dumps([_json_ready(entry) for entry in summary], indent=1) + "\n")
    markdown_path = output_dir / "summary.md"
    markdown_path.write_text(_markdown(summary, rows, list(notes), title))
    return {
        "json": json_path,
        "markdown": markdown_path,
        "summary_json": summary_path,
        "plots": _plots(summary, rows, output_dir),
    }
