"""Models compared by the benchmark, their shared preprocessing and parameter counts.

Every model sees the same preprocessing (:func:`make_preprocessor`) and, for
regression, the same standardised target; only the final estimator differs.
"""

import importlib
from dataclasses import dataclass, field

import numpy as np

from ._registry import lookup

__all__ = [
    "ModelSpec",
    "ModelUnavailable",
    "MODELS",
    "ADDITIVE_MODELS",
    "DEFAULT_MODELS",
    "OPTIONAL_ANCHORS",
    "QUICK_MODELS",
    "get_models",
    "make_preprocessor",
    "build_model",
    "count_parameters",
]


class ModelUnavailable(ImportError):
    """Raised by a model factory whose optional library is not installed."""


def make_preprocessor():
    """One-hot encode categoricals, impute missing values, scale numeric columns.

    Categorical columns are those with a non-numeric dtype; rare categories
    beyond the 20 most frequent per column share one indicator, so that wide
    categoricals (countries, agents) do not dominate the input width.
    """
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler())
    categorical = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="missing"),
        OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=20, sparse_output=False),
    )
    return ColumnTransformer(
        [
            ("numeric", numeric, make_column_selector(dtype_include=np.number)),
            ("categorical", categorical, make_column_selector(dtype_exclude=np.number)),
        ],
        verbose_feature_names_out=False,
    )


def _kan(task, seed, n_threads):
    from .. import KANClassifier, KANRegressor

    cls = KANRegressor if task == "regression" else KANClassifier
    return cls(random_state=seed, device="cpu")


def _kan_additive(task, seed, n_threads):
    return _kan(task, seed, n_threads).set_params(interaction_cst="no_interactions")


def _hist_gbdt(task, seed, n_threads):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    cls = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    return cls(random_state=seed)


def _library(module, package):
    """Import an optional model library, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ModelUnavailable(f"{package} is not installed (pip install skkan[benchmark])") from exc


def _lightgbm(task, seed, n_threads):
    lightgbm = _library("lightgbm", "lightgbm")
    cls = lightgbm.LGBMRegressor if task == "regression" else lightgbm.LGBMClassifier
    return cls(random_state=seed, n_jobs=n_threads, verbose=-1)


def _xgboost(task, seed, n_threads):
    xgboost = _library("xgboost", "xgboost")
    cls = xgboost.XGBRegressor if task == "regression" else xgboost.XGBClassifier
    return cls(random_state=seed, n_jobs=n_threads, tree_method="hist")


def _ebm(task, seed, n_threads):
    glassbox = _library("interpret.glassbox", "interpret-core")
    cls = glassbox.ExplainableBoostingRegressor if task == "regression" else glassbox.ExplainableBoostingClassifier
    return cls(n_jobs=n_threads, random_state=seed)


def _realmlp(task, seed, n_threads):
    pytabkit = _library("pytabkit", "pytabkit")
    cls = pytabkit.RealMLP_TD_Regressor if task == "regression" else pytabkit.RealMLP_TD_Classifier
    return cls(device="cpu", n_threads=n_threads, random_state=seed)


def _mlp(task, seed, n_threads):
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    cls = MLPRegressor if task == "regression" else MLPClassifier
    return cls(random_state=seed)


def _linear(task, seed, n_threads):
    from sklearn.linear_model import LogisticRegression, Ridge

    return Ridge() if task == "regression" else LogisticRegression(max_iter=1000)


@dataclass(frozen=True)
class ModelSpec:
    """A model of the benchmark.

    Parameters
    ----------
    name : str
        Identifier used in result tables.
    factory : callable
        ``factory(task, seed, n_threads)`` returns an unfitted estimator, or
        raises :class:`ModelUnavailable` when an optional library is missing.
    param_grid : dict, list of dict or None
        Hyperparameter grid of the final estimator for a GridSearchCV
        (selected on one 80/20 split of the training data), or None.
    description : str
        One line for the report.
    requires : tuple of str
        Optional modules the factory imports (checked by the command line
        before a run).
    """

    name: str
    factory: object = field(repr=False, compare=False)
    param_grid: object = field(default=None, compare=False)
    description: str = ""
    requires: tuple = ()


_REGISTRY = [
    ModelSpec("kan", _kan, None, "KANRegressor / KANClassifier with default hyperparameters"),
    ModelSpec(
        "kan_additive",
        _kan_additive,
        None,
        "additive KAN (interaction_cst='no_interactions'): one smooth shape function per input, EBM's counterpart",
    ),
    ModelSpec("hist_gbdt", _hist_gbdt, None, "scikit-learn HistGradientBoosting (defaults)"),
    ModelSpec("lightgbm", _lightgbm, None, "LightGBM (defaults)", requires=("lightgbm",)),
    ModelSpec("xgboost", _xgboost, None, "XGBoost (defaults, hist trees)", requires=("xgboost",)),
    ModelSpec("mlp", _mlp, None, "scikit-learn MLPRegressor / MLPClassifier (defaults: one hidden layer of 100)"),
    ModelSpec("linear", _linear, None, "Ridge / LogisticRegression"),
    ModelSpec(
        "ebm",
        _ebm,
        None,
        "interpret-core ExplainableBoostingRegressor / Classifier (defaults): an interpretable additive anchor",
        requires=("interpret",),
    ),
    ModelSpec(
        "realmlp",
        _realmlp,
        None,
        "pytabkit RealMLP_TD_Regressor / Classifier (tuned defaults, CPU): a strong tabular MLP anchor",
        requires=("pytabkit",),
    ),
]

MODELS = {spec.name: spec for spec in _REGISTRY}
"""All registered models by name."""

OPTIONAL_ANCHORS = ("ebm", "realmlp")
"""Further anchors, left out of the defaults: with their default settings each fits many times slower
than the gradient-boosted trees on one thread (EBM bags 14 boosting runs; RealMLP trains 256 epochs)."""

ADDITIVE_MODELS = ("kan_additive", "ebm", "kan", "linear")
"""The additive comparison (``benchmarks/bench_additive.py``): the additive KAN beside EBM."""

DEFAULT_MODELS = tuple(name for name in MODELS if name not in (*OPTIONAL_ANCHORS, "kan_additive"))
"""Models of the full benchmark."""

QUICK_MODELS = ("kan", "hist_gbdt", "lightgbm", "mlp", "linear")
"""Models of ``--quick`` mode."""


def get_models(names):
    """Look up registered models by name (a :class:`ModelSpec` passes through)."""
    return lookup(names, MODELS, ModelSpec, "model")


def build_model(spec, task, seed, n_threads=1, param_grid=None):
    """Preprocessing + estimator (+ target scaling, + grid search) for one run.

    Raises :class:`ModelUnavailable` if the model's library is missing.
    """
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.model_selection import GridSearchCV, ShuffleSplit, StratifiedShuffleSplit
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    estimator = spec.factory(task, seed, n_threads)
    model = Pipeline([("preprocess", make_preprocessor()), ("model", estimator)])
    prefix = "model__"
    if task == "regression":
        model = TransformedTargetRegressor(regressor=model, transformer=StandardScaler())
        prefix = "regressor__model__"
    grid = spec.param_grid if param_grid is None else param_grid
    if grid:
        splitter = ShuffleSplit if task == "regression" else StratifiedShuffleSplit
        grids = [grid] if isinstance(grid, dict) else list(grid)
        model = GridSearchCV(
            model,
            [{prefix + key: list(values) for key, values in g.items()} for g in grids],
            cv=splitter(n_splits=1, test_size=0.2, random_state=seed),
            n_jobs=1,
        )
    return model


def _final_estimator(model):
    from sklearn.model_selection import GridSearchCV

    if isinstance(model, GridSearchCV):
        model = model.best_estimator_
    if hasattr(model, "regressor_"):
        model = model.regressor_
    return model.named_steps["model"]


def count_parameters(model):
    """Trainable parameter count of a fitted benchmark model, and how it was counted.

    KAN: ``n_params_``. MLP: weights and biases. Linear: coefficients and
    intercepts. Gradient-boosted trees have no trainable weights in that
    sense; their count is the number of tree nodes (one split threshold or
    leaf value each), summed over all trees. EBM: the cells of its per-term
    lookup tables (one score per bin, and per class beyond two) and the
    intercepts. RealMLP: the trainable tensors of its torch network. Anything
    else: ``(-1, "unknown")``.
    """
    est = _final_estimator(model)
    if hasattr(est, "term_scores_"):
        return int(sum(np.size(t) for t in est.term_scores_) + np.size(est.intercept_)), "additive term table cells"
    network = getattr(getattr(est, "alg_interface_", None), "model", None)
    if hasattr(network, "parameters"):
        return int(sum(p.numel() for p in network.parameters() if p.requires_grad)), "weights + biases"
    if hasattr(est, "n_params_"):
        return int(est.n_params_), "KAN spline and base weights"
    if hasattr(est, "coefs_"):
        return int(sum(w.size for w in est.coefs_) + sum(b.size for b in est.intercepts_)), "weights + biases"
    if hasattr(est, "_predictors"):
        return int(sum(p.nodes.shape[0] for trees in est._predictors for p in trees)), "tree nodes"
    if hasattr(est, "booster_"):
        trees = est.booster_.dump_model()["tree_info"]
        return int(sum(2 * tree["num_leaves"] - 1 for tree in trees)), "tree nodes"
    if hasattr(est, "get_booster"):
        dump = est.get_booster().get_dump()
        return int(sum(sum(1 for line in tree.splitlines() if line.strip()) for tree in dump)), "tree nodes"
    if hasattr(est, "coef_"):
        return int(np.size(est.coef_) + np.size(getattr(est, "intercept_", 0))), "coefficients + intercepts"
    return -1, "unknown"
