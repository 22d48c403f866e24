"""The structure search behind :class:`~skkan.KANSymbolicRegressor`: candidates, one candidate's run, the choice.

A candidate is a small KAN shape (hidden sum nodes and product nodes, one or
two hidden layers) with a sparsity schedule. Each is trained, pruned,
refitted, snapped to closed-form functions and polished through the
:class:`~skkan.KANRegressor` methods that delegate to :mod:`skkan.interpret`
(this module, part of the estimators' face, never imports it), and judged by
the validation error of the formula it gives.
"""

import math
import time
import warnings
from dataclasses import dataclass

import numpy as np

from ._engine.symbolic_library import SYMBOLIC_FUNCTIONS
from ._formula_constants import complexity, simplify_constants
from ._regressor import KANRegressor
from ._threads import fit_threads, threads_for_fit
from .exceptions import TrainingDivergedError

__all__ = [
    "CandidateResult",
    "Structure",
    "candidate_structures",
    "check_library",
    "choose",
    "complexity",
    "formula_function",
    "import_sympy",
    "is_exact",
    "pareto_front",
    "run_candidate",
]

# A structure is tried only when the training rows number at least this many
# times its edges: with fewer, spline edges follow the rows rather than a law,
# and the search on a small table stays short (the first structure always runs).
# 500 rows (375 training rows) support every default structure on 2 and 3
# features, and two product nodes on 4.
_ROWS_PER_EDGE = 20
# Relative validation RMSE (to the standard deviation of y) below which a
# formula counts as exact: double rounding of a formula whose constants are
# rounded to 4 decimals is far above it, an exactly recovered one far below.
_EXACT_RMSE = 1e-9
# The network's formula is read with every digit; simplify_constants then decides which numbers stay.
_FULL_PRECISION = 15
# Seconds the simplification of a candidate's numbers may always take, even past the search's budget.
_SIMPLIFY_SECONDS = 5.0


@dataclass(frozen=True)
class Structure:
    """One candidate: hidden sum nodes per layer, product nodes per hidden layer, sparsity and pruning."""

    hidden_layer_sizes: tuple
    multiplication_nodes: int = 0
    lamb: float = 1e-2
    prune_threshold: float = 5e-2

    def n_edges(self, n_features):
        """Edges of the network on ``n_features`` inputs (a product node has two incoming subnodes)."""
        widths_in = [n_features]
        edges = 0
        for width in self.hidden_layer_sizes:
            edges += widths_in[-1] * (width + 2 * self.multiplication_nodes)
            widths_in.append(width + self.multiplication_nodes)
        return edges + widths_in[-1]

    def as_dict(self):
        """The structure as plain data (what ``pareto_front_`` shows)."""
        return {
            "hidden_layer_sizes": self.hidden_layer_sizes,
            "multiplication_nodes": self.multiplication_nodes,
            "lamb": self.lamb,
            "prune_threshold": self.prune_threshold,
        }


# Cheapest first: additive, one product, one composition, then wider and deeper shapes; the
# same shapes once more with a lighter sparsity penalty and pruning (a law that the default
# schedule pruned too hard).
_SHAPES = (
    ((), 0),
    ((0,), 1),
    ((1,), 0),
    ((1,), 1),
    ((0,), 2),
    ((2,), 0),
    ((1, 1), 0),
    ((2,), 1),
    ((3,), 0),
    ((2, 1), 0),
    ((1,), 2),
    ((1, 1), 1),
)
_SCHEDULES = ((1e-2, 5e-2), (1e-3, 2e-2))
DEFAULT_STRUCTURES = tuple(
    Structure(hidden, products, lamb, threshold) for lamb, threshold in _SCHEDULES for hidden, products in _SHAPES
)


def candidate_structures(structures, n_train, n_features):
    """The structures to try, in order: ``structures`` (or the defaults) that the training rows support."""
    if structures is not None:
        return [_as_structure(entry) for entry in structures]
    supported = [s for s in DEFAULT_STRUCTURES if s.n_edges(n_features) * _ROWS_PER_EDGE <= n_train]
    return supported or [DEFAULT_STRUCTURES[0]]


def _as_structure(entry):
    """A user's structure: ``(hidden_layer_sizes, multiplication_nodes)`` or a dict of Structure's fields."""
    try:
        if isinstance(entry, dict):
            fields = dict(entry)
            fields["hidden_layer_sizes"] = tuple(int(w) for w in fields["hidden_layer_sizes"])
            structure = Structure(**fields)
        else:
            hidden, products = entry
            structure = Structure(tuple(int(w) for w in hidden), int(products))
    except (TypeError, ValueError, KeyError) as error:
        raise ValueError(
            "Each entry of structures must be (hidden_layer_sizes, multiplication_nodes), e.g. ((1,), 0), or a "
            f"dict with the keys hidden_layer_sizes, multiplication_nodes, lamb, prune_threshold; got {entry!r}."
        ) from error
    sizes, products = structure.hidden_layer_sizes, structure.multiplication_nodes
    if any(w < 0 for w in sizes) or products < 0 or (products and not sizes):
        raise ValueError(f"Invalid structure {entry!r}: widths >= 0, and product nodes need a hidden layer.")
    if any(w + products < 1 for w in sizes):
        raise ValueError(f"Invalid structure {entry!r}: every hidden layer needs at least one node.")
    return structure


def check_library(function_library):
    """``function_library`` as a list of known names (None: all), or a ValueError naming the unknown ones."""
    if function_library is None:
        return None
    names = [function_library] if isinstance(function_library, str) else list(function_library)
    unknown = [name for name in names if name not in SYMBOLIC_FUNCTIONS]
    if unknown or not names:
        raise ValueError(
            f"function_library has unknown function names {unknown}; choose from {list(SYMBOLIC_FUNCTIONS)}."
            if unknown
            else "function_library must name at least one function."
        )
    return names


def import_sympy():
    """The sympy module, or an ImportError that names the extra to install."""
    try:
        import sympy
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("KANSymbolicRegressor needs sympy; install it with `pip install skkan[symbolic]`.") from error
    return sympy


def formula_function(formula, feature_names):
    """``formula`` as a numpy function of the columns of ``X`` (built with ``sympy.lambdify``)."""
    sympy = import_sympy()
    symbols = [sympy.Symbol(name) for name in feature_names]
    # dummify: feature names need not be identifiers ("petal length (cm)").
    function = sympy.lambdify(symbols, formula, modules="numpy", dummify=True)

    def evaluate(X):
        with np.errstate(all="ignore"):
            values = function(*np.asarray(X, dtype=np.float64).T)
        return np.broadcast_to(np.asarray(values, dtype=np.float64), (X.shape[0],)).copy()

    return evaluate


@dataclass
class CandidateResult:
    """What one structure gave: its formula (None if it failed), validation RMSE, complexity, seconds."""

    structure: Structure
    formula: object
    validation_rmse: float
    complexity: int
    seconds: float
    error: str = ""

    def as_dict(self):
        """One row of ``pareto_front_``."""
        return {
            "complexity": self.complexity,
            "validation_rmse": self.validation_rmse,
            "formula": self.formula,
            "structure": self.structure.as_dict(),
            "seconds": self.seconds,
        }


def run_candidate(structure, data, feature_names, library, precision, seed, seconds_left=None, tolerance=0.05):
    """Train, prune, refit, snap and polish one structure; its formula simplified and judged on the validation rows.

    ``data`` is ``(X_train, y_train, X_validation, y_validation)``. The
    formula's numbers are then dropped, snapped to simple constants or
    rounded to ``precision`` decimals while the training rows cannot tell
    the change and its validation RMSE stays within ``tolerance``
    (:func:`~skkan._formula_constants.simplify_constants`).
    ``seconds_left`` (None: no limit) is the search's remaining time: the
    polishing of the snapped network stops there (its ``time_budget``), so
    a candidate ends soon after the search's budget with a complete
    formula, judged as any other. Torch
    uses one thread (candidates run in parallel instead: ``n_jobs``) unless
    ``SKKAN_NUM_THREADS`` says otherwise.
    """
    X_train, y_train, X_validation, y_validation = data
    start = time.perf_counter()
    regressor = KANRegressor(
        hidden_layer_sizes=structure.hidden_layer_sizes,
        multiplication_nodes=structure.multiplication_nodes,
        lamb=structure.lamb,
        max_iter=40,
        early_stopping=False,
        ensemble_size=1,
        dtype="float64",
        device="cpu",
        random_state=seed,
    )
    try:
        with warnings.catch_warnings(), fit_threads(threads_for_fit() or 1):
            # Convergence warnings of the short fits say nothing about the formula, which is judged below.
            warnings.simplefilter("ignore")
            regressor.fit(X_train, y_train).prune(structure.prune_threshold)
            regressor.set_params(warm_start=True, lamb=0.0, max_iter=20).fit(X_train, y_train)
            # Every edge is snapped (r2_threshold=-inf), so the formula holds no spline edge.
            budget = None if seconds_left is None else max(seconds_left - (time.perf_counter() - start), 1e-3)
            regressor.auto_symbolic(-math.inf, library=library, X=X_train, y=y_train, time_budget=budget)
            # Unsimplified: sympy's simplify on a long formula whose numbers keep every digit can take
            # minutes; the formula is tidied once its numbers are simplified (and it is short).
            formula = regressor.symbolic_formula(_FULL_PRECISION, simplify=False)[0]
    except (ValueError, RuntimeError, ArithmeticError, TrainingDivergedError) as error:
        return CandidateResult(structure, None, math.inf, 0, time.perf_counter() - start, f"{error}")
    # The search's deadline, or a little past it: the last candidate's formula is simplified too.
    now = time.perf_counter()
    deadline = None if seconds_left is None else now + max(_SIMPLIFY_SECONDS, seconds_left - (now - start))
    floor = _EXACT_RMSE * float(np.std(y_train))
    formula = simplify_constants(
        formula, data, feature_names, tolerance=tolerance, floor=floor, precision=precision, deadline=deadline
    )
    function = formula_function(formula, feature_names)
    residuals = function(X_validation) - y_validation
    # Rounded constants can move an argument out of a function's domain (sqrt, log) on some rows: such a
    # formula is not kept, wherever the rows lie.
    finite = np.all(np.isfinite(residuals)) and np.all(np.isfinite(function(X_train)))
    rmse = float(np.sqrt(np.mean(residuals**2))) if finite else math.inf
    return CandidateResult(structure, formula, rmse, complexity(formula), time.perf_counter() - start)


def is_exact(result, y_scale):
    """Whether a candidate's validation error is at the numerical floor (an exact recovery)."""
    return result.validation_rmse <= _EXACT_RMSE * y_scale


def choose(results, tolerance, y_scale):
    """The chosen candidate: the simplest within ``tolerance`` of the best validation RMSE (see the estimator).

    None when no formula is finite on every row.
    """
    finished = [result for result in results if math.isfinite(result.validation_rmse)]
    if not finished:
        return None
    best = min(result.validation_rmse for result in finished)
    allowed = (1.0 + tolerance) * best + _EXACT_RMSE * y_scale
    tied = [result for result in finished if result.validation_rmse <= allowed]
    # Among equally simple formulas the more accurate one; then the earlier (cheaper) structure.
    return min(tied, key=lambda result: (result.complexity, result.validation_rmse))


def pareto_front(results):
    """The candidates no other beats on both complexity and validation RMSE, simplest first."""
    finished = sorted(
        (result for result in results if math.isfinite(result.validation_rmse)),
        key=lambda result: (result.complexity, result.validation_rmse),
    )
    front, best_rmse = [], math.inf
    for result in finished:
        if result.validation_rmse < best_rmse:
            front.append(result)
            best_rmse = result.validation_rmse
    return front
