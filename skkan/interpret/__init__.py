"""Interpretation of fitted KAN estimators: importances, pruning, plots, symbolic formulas.

Every function takes a fitted :class:`~skkan.KANRegressor` or
:class:`~skkan.KANClassifier` and reads it only through its public,
read-only :class:`~skkan.FittedKAN` view (``estimator.fitted_view_``). The
estimators' methods of the same names (``estimator.prune()``,
``estimator.plot()``, ...) delegate here. Plots need the ``plot`` extra
(matplotlib), formulas the ``symbolic`` extra (sympy); both are imported
only when used.
"""

from .._engine.symbolic import SymbolicFit
from .._engine.symbolic_library import SYMBOLIC_FUNCTIONS
from ._contribution_plot import plot_contributions
from ._contributions import predict_contributions
from ._diagram import plot_network
from ._edge_table import symbolic_table
from ._effects import plot_feature_effects
from ._formula_outputs import symbolic_code, symbolic_formula, symbolic_function, symbolic_latex
from ._importance import attribution_scores, edge_importances, feature_importances
from ._plot import plot_edge, plot_features
from ._pruning import prune
from ._symbolic import auto_symbolic, fix_symbolic, suggest_symbolic

#: Names of the candidate functions of the symbolic library.
SYMBOLIC_LIBRARY = tuple(SYMBOLIC_FUNCTIONS)

__all__ = [
    "SYMBOLIC_LIBRARY",
    "SymbolicFit",
    "attribution_scores",
    "auto_symbolic",
    "edge_importances",
    "feature_importances",
    "fix_symbolic",
    "plot_contributions",
    "plot_edge",
    "plot_feature_effects",
    "plot_features",
    "plot_network",
    "predict_contributions",
    "prune",
    "suggest_symbolic",
    "symbolic_code",
    "symbolic_formula",
    "symbolic_function",
    "symbolic_latex",
    "symbolic_table",
]
