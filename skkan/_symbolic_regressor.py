"""KANSymbolicRegressor: a closed-form formula found by searching small KAN structures."""

import time
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from ._symbolic_search import (
    CandidateResult,
    Structure,
    candidate_structures,
    check_library,
    choose,
    formula_function,
    import_sympy,
    is_exact,
    pareto_front,
    run_candidate,
)

__all__ = ["KANSymbolicRegressor"]

# Below this many rows the formulas are judged on the training rows: a
# held-out split would leave too few to fit or to judge on.
_MIN_ROWS_FOR_SPLIT = 20


class KANSymbolicRegressor(RegressorMixin, BaseEstimator):
    """Symbolic regression with KANs: a closed-form formula for ``y`` found by a search over small networks.

    ``fit`` tries small KAN structures, cheapest first: additive (no hidden
    layer), one product node, one hidden sum node (a composition
    ``h(sum_i g_i(x_i))``), then wider layers, mixes of sum and product
    nodes and two hidden layers, each with a strong sparsity penalty
    (``lamb=1e-2``, pruning at 5e-2) and then again with a lighter one
    (``lamb=1e-3``, pruning at 2e-2). Each candidate is trained (L-BFGS,
    float64), pruned, refitted without the penalty, snapped edge by edge to
    the best closed-form function of the library and polished
    (:meth:`KANRegressor.auto_symbolic` on the training rows). Its formula
    (:meth:`KANRegressor.symbolic_formula`, every digit kept) then has its
    numbers simplified: a redundant number (a factor shared by a fraction's
    numerator and denominator) is fixed at 0 or 1; each number is tried at
    zero (its term drops) and at simple constants within 3% of it (integers,
    fractions ``p/q``, ``p/q * pi`` and ``p/(q * pi)`` with ``q <= 12``),
    the other numbers refitted on the training rows after each try; a
    change is kept when the training rows cannot tell it from the full fit
    (a likelihood-ratio test at the 1% level over all changes kept) and the
    validation RMSE stays within ``tolerance`` of the full fit's (the
    formula with all its numbers refitted on the training rows). The numbers
    left are rounded to ``precision`` decimals. The simplified formula is
    scored on held-out rows.

    **Selection rule.** ``validation_fraction`` of the rows given to ``fit``
    are held out (a seeded split; with fewer than 20 rows the formulas are
    judged on the training rows). Among the candidates whose validation RMSE
    is at most ``(1 + tolerance)`` times the best one's (plus a numerical
    floor of 1e-9 times the standard deviation of ``y``), the formula with
    the fewest nodes in its expression tree wins (ties: the lower RMSE,
    then the cheaper structure). The search stops early once a candidate's
    formula is exact on the validation rows (RMSE at that floor: no later
    candidate could be more accurate, and the first exact formula, from the
    cheapest structure, is kept), and stops at ``time_budget``. No data
    besides the rows given to ``fit`` choose anything.

    Structures need rows: one is tried only when the training split holds at
    least 20 rows per network edge (the first structure always runs), so a
    search on a small table is short.

    Parameters
    ----------
    time_budget : float, default=60.0
        Seconds after which no new candidate starts. A candidate running
        when the budget ends finishes its training and snapping but stops
        polishing its constants there (``auto_symbolic``'s
        ``time_budget``), so ``fit`` overruns the budget by at most one
        candidate's training, and that candidate's complete formula is
        judged as any other. The first candidate always runs. When the
        budget stops the search before every structure was tried, ``fit``
        warns; the result then depends on the machine's speed.
    structures : list, default=None
        Structures to try, in order, instead of the default search: each
        ``(hidden_layer_sizes, multiplication_nodes)``, e.g. ``((1,), 0)``,
        or a dict that also sets ``lamb`` and ``prune_threshold``. Given
        structures are all tried, whatever the number of rows.
    function_library : list of str, default=None
        Names of the closed-form functions edges may snap to (see
        :data:`skkan.interpret.SYMBOLIC_LIBRARY`); all of them by default.
    tolerance : float, default=0.05
        Relative excess of validation RMSE over the best candidate's that a
        simpler formula may have and still win. Raise it for noisy data
        (e.g. 0.2), where candidates differ by noise rather than law.
    validation_fraction : float, default=0.25
        Share of the rows held out to judge the formulas.
    precision : int, default=4
        Decimals kept in the formula's numbers that did not become a simple
        constant (each rounded in turn, the others refitted after it).
    n_jobs : int, default=None
        Candidates trained in parallel (joblib); None means 1. Each
        candidate uses one torch thread (``SKKAN_NUM_THREADS`` overrides).
        The result does not depend on it.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split and the networks' initialisation.
    verbose : int, default=0
        Print each candidate's formula, validation RMSE and time if > 0.

    Attributes
    ----------
    formula_ : sympy.Expr
        The chosen formula, in the feature names (``x0, x1, ...`` for
        arrays). It lambdifies, prints as C code (``sympy.ccode``) and
        pickles.
    complexity_ : int
        Nodes of the expression tree of ``formula_``.
    validation_rmse_ : float
        The chosen formula's RMSE on the held-out rows.
    structure_ : dict
        The structure that gave the formula (``hidden_layer_sizes``,
        ``multiplication_nodes``, ``lamb``, ``prune_threshold``).
    pareto_front_ : list of dict
        The candidates that no other beats on both complexity and
        validation RMSE, simplest first; each with ``complexity``,
        ``validation_rmse``, ``formula``, ``structure`` and ``seconds``.
    n_candidates_ : int
        Candidates trained.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit (only when ``X`` has string
        column names).

    See Also
    --------
    KANRegressor : The network, with the interpretation methods this search uses.

    Examples
    --------
    >>> import numpy as np
    >>> from skkan import KANSymbolicRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(300, 2))
    >>> reg = KANSymbolicRegressor(random_state=0).fit(X, X[:, 0] * X[:, 1])
    >>> reg.formula_
    x0*x1
    """

    _parameter_constraints = {
        "time_budget": [Interval(Real, 0, None, closed="neither")],
        "structures": [None, list, tuple],
        "function_library": [None, list, tuple],
        "tolerance": [Interval(Real, 0, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "precision": [Interval(Integral, 1, 15, closed="both")],
        "n_jobs": [None, Integral],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        time_budget=60.0,
        structures=None,
        function_library=None,
        tolerance=0.05,
        validation_fraction=0.25,
        precision=4,
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.time_budget = time_budget
        self.structures = structures
        self.function_library = function_library
        self.tolerance = tolerance
        self.validation_fraction = validation_fraction
        self.precision = precision
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Search structures and keep the formula that best trades validation error against complexity.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs (finite numbers).
        y : array-like of shape (n_samples,)
            Targets (finite numbers, not all equal).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        library = check_library(self.function_library)
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True, ensure_min_samples=2)
        if np.ptp(y) == 0:
            raise ValueError(f"y is constant (every value is {y[0]!r}): there is no formula to search for.")
        sympy = import_sympy()  # before the search: a missing sympy fails at once
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        data = self._split(X, y, seed)
        structures = candidate_structures(self.structures, data[0].shape[0], X.shape[1])
        results = self._search(structures, data, library, seed)
        chosen = choose(results, self.tolerance, float(np.std(y)))
        if chosen is None:
            chosen = self._constant_formula(results, y, data[3], sympy)
        names = self._feature_names()
        # The candidates are fitted on arrays, so their formulas are in x0, x1, ...
        renamed = {sympy.Symbol(f"x{i}"): sympy.Symbol(name) for i, name in enumerate(names)}
        self.formula_ = chosen.formula.xreplace(renamed)
        self.complexity_ = chosen.complexity
        self.validation_rmse_ = chosen.validation_rmse
        self.structure_ = chosen.structure.as_dict()
        self.pareto_front_ = [
            {**result.as_dict(), "formula": result.formula.xreplace(renamed)} for result in pareto_front(results)
        ]
        self.n_candidates_ = len(results)
        self._predict_function = formula_function(self.formula_, names)
        return self

    def _constant_formula(self, results, y, y_validation, sympy):
        """The mean of ``y`` as the formula, with a warning: no candidate gave a formula finite on every row."""
        reasons = sorted({result.error or "NaN or infinite on some rows" for result in results})
        warnings.warn(
            f"KANSymbolicRegressor: none of the {len(results)} structures gave a formula finite on every row "
            f"({'; '.join(reasons)[:300]}); the formula is the mean of y.",
            UserWarning,
            stacklevel=4,
        )
        mean = float(np.mean(y))
        rmse = float(np.sqrt(np.mean((y_validation - mean) ** 2)))
        return CandidateResult(Structure(()), sympy.Float(mean, 15), rmse, 1, 0.0)

    def _split(self, X, y, seed):
        """``(X_train, y_train, X_validation, y_validation)``; the training rows twice when there are few rows."""
        if X.shape[0] < _MIN_ROWS_FOR_SPLIT:
            return X, y, X, y
        from sklearn.model_selection import train_test_split

        X_train, X_validation, y_train, y_validation = train_test_split(
            X, y, test_size=self.validation_fraction, random_state=seed
        )
        return X_train, y_train, X_validation, y_validation

    def _search(self, structures, data, library, seed):
        """Run the candidates in order (``n_jobs`` at a time) until exact recovery or the time budget."""
        from joblib import Parallel, delayed

        n_jobs = 1 if self.n_jobs is None else self.n_jobs
        batch_size = max(1, n_jobs if n_jobs > 0 else Parallel(n_jobs=n_jobs).n_jobs)
        names = [f"x{i}" for i in range(data[0].shape[1])]
        y_scale = float(np.std(data[1]))
        start, results = time.perf_counter(), []
        for first in range(0, len(structures), batch_size):
            if results and time.perf_counter() - start >= self.time_budget:
                warnings.warn(
                    f"KANSymbolicRegressor: the time budget ({self.time_budget} s) ended the search after "
                    f"{len(results)} of {len(structures)} structures; the formula is the best of those (raise "
                    "time_budget for a full search).",
                    UserWarning,
                    stacklevel=4,
                )
                break
            batch = structures[first : first + batch_size]
            seconds_left = self.time_budget - (time.perf_counter() - start)
            jobs = (
                delayed(run_candidate)(s, data, names, library, self.precision, seed, seconds_left, self.tolerance)
                for s in batch
            )
            for result in Parallel(n_jobs=min(n_jobs, len(batch)))(jobs):
                if self.verbose:
                    print(
                        f"{result.structure.as_dict()}: RMSE {result.validation_rmse:.3g}, "
                        f"{result.seconds:.1f} s, {result.formula if result.formula is not None else result.error}"
                    )
                results.append(result)
                if result.formula is not None and is_exact(result, y_scale):
                    # Later results of the batch are dropped, so n_jobs does not change the choice.
                    return results
        return results

    def _feature_names(self):
        names = getattr(self, "feature_names_in_", None)
        return [f"x{i}" for i in range(self.n_features_in_)] if names is None else [str(name) for name in names]

    def predict(self, X):
        """Evaluate the formula.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            ``formula_`` at each row (NaN where a row leaves the formula's
            domain, e.g. ``log`` of a negative number, with a warning).
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        values = self._predict_function(X)
        if not np.all(np.isfinite(values)):
            warnings.warn(
                f"The formula {self.formula_} is NaN or infinite for {int(np.sum(~np.isfinite(values)))} of "
                f"{values.size} rows: they leave its domain.",
                UserWarning,
                stacklevel=2,
            )
        return values

    def __getstate__(self):
        # The lambdified function is rebuilt on load: pickles hold the sympy formula only.
        state = dict(super().__getstate__())  # a copy: the estimator keeps its function
        state.pop("_predict_function", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "formula_" in state:
            self._predict_function = formula_function(self.formula_, self._feature_names())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
