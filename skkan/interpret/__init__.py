"""Interpretation of fitted KAN estimators: importances, pruning, plots, symbolic formulas.

The methods live on :class:`skkan.KANRegressor` and :class:`skkan.KANClassifier`
(``feature_importances_``, ``edge_importances``, ``prune``, ``plot``,
``plot_edge``, ``plot_features``, ``suggest_symbolic``, ``fix_symbolic``,
``auto_symbolic``, ``symbolic_formula``, ``symbolic_function``,
``symbolic_latex``). Plots need the ``plot`` extra (matplotlib), formulas
the ``symbolic`` extra (sympy); both are imported only when used.
"""

from .._engine.symbolic import SYMBOLIC_FUNCTIONS, SymbolicFit

#: Names of the candidate functions of the symbolic library.
SYMBOLIC_LIBRARY = tuple(SYMBOLIC_FUNCTIONS)

__all__ = ["SYMBOLIC_LIBRARY", "SymbolicFit"]
