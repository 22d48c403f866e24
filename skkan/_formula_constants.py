"""Simplifying a formula's numbers under validation: drop terms, snap constants to simple ones, round the rest.

A formula read off a trained network carries its numbers to full precision,
and they carry the fitting error and the noise of the rows: ``1.0082`` for an
exponent 1, ``0.0558`` for an offset 0, a tiny term that the data do not
need. :func:`simplify_constants` first refits every number on the training
rows (the starting fit) and fixes the numbers that the others can stand in
for exactly (a factor shared by a fraction's numerator and denominator), at
0 or 1. It then tries the simpler formula in place of each number, one
change at a time: the number set to zero (the term or factor drops), or
replaced by a simple constant near it (an integer, a fraction ``p/q``,
``p/q * pi`` or ``p/(q * pi)`` with ``q <= 12``). After each change the
numbers not yet fixed are refitted by least squares on the training rows, so
the others absorb what the change moved. The change is kept when

* the training rows cannot tell the formula from the starting fit: a
  likelihood-ratio test of all the changes kept so far, at the 1% level
  (so noise decides how close is close, not a fixed number of digits); and
* the validation RMSE stays within ``(1 + tolerance)`` of the starting
  fit's plus a numerical floor, with no more rows out of the formula's
  domain (NaN or inf) than it had.

Every kept change rebuilds the expression, so numbers that the change made
redundant (the scales inside a power that became an integer power) merge
into one. The numbers left are finally rounded to ``precision`` decimals,
one at a time, each followed by a refit of the others.

Training rows fit numbers and test changes; validation rows bound what the
changes cost. Test rows play no part.
"""

import math
import time
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

__all__ = ["complexity", "simplify_constants"]

# Largest denominator of the simple constants tried, and how far (relative) a
# simple constant may lie from the fitted number to be tried in its place: a
# refit of the other numbers absorbs a few percent, validation decides.
_MAX_DENOMINATOR = 12
_RELATIVE_WINDOW = 0.03
# Simple constants tried per number (the simplest first), and passes over the
# numbers (a kept change can make another one simple).
_CANDIDATES_PER_NUMBER = 6
_MAX_PASSES = 3
# Solver iterations of a refit at most (each costs one evaluation per free number for the
# finite-difference Jacobian): the numbers start near their optimum, and a long wrong
# formula with dozens of numbers must not take minutes.
_REFIT_ITERATIONS = 50
# Nodes of a simplified formula up to which sympy's simplify tidies it (see _tidier).
_SIMPLIFY_NODES = 40
# Relative step of the finite-difference Jacobian, and the ratio of its smallest
# to largest singular value below which the numbers are redundant.
_JACOBIAN_STEP = 1e-5
_RANK_TOLERANCE = 1e-7
# Numbers below this size are steps of their own in the Jacobian (not relative ones).
_SMALL_NUMBER = 1e-3
# Largest change of a number's logarithm when a redundant factor is fixed (see _ConstantProblem._along).
_MAX_LOG_MOVE = 20.0
# Level of the nested-model test that every kept change passes (see _ConstantProblem._insignificant).
_TEST_LEVEL = 0.99


def simplify_constants(formula, data, feature_names, *, tolerance, floor, precision, deadline=None):
    """``formula`` with its numbers dropped, snapped to simple constants or rounded, under validation.

    Parameters
    ----------
    formula : sympy.Expr
        A formula in the symbols named ``feature_names`` whose numbers are
        ``sympy.Float`` (exact numbers, e.g. integer exponents, stay).
    data : tuple
        ``(X_train, y_train, X_validation, y_validation)``.
    feature_names : list of str
        The symbol of each column of ``X``.
    tolerance : float
        Relative excess of validation RMSE over the starting fit's (the
        formula with all its numbers refitted on the training rows) that a
        change may cost.
    floor : float
        Absolute validation RMSE any change may reach (the numerical floor of
        an exact formula).
    precision : int
        Decimals the numbers left are rounded to.
    deadline : float, optional
        ``time.perf_counter()`` value after which no change is tried (the
        numbers left are still rounded, without refits).

    Returns
    -------
    simplified : sympy.Expr
        The simplified formula. Changes that would make it NaN or infinite
        on a training or validation row are never kept.
    """
    problem = _ConstantProblem(formula, data, feature_names)
    problem.start()
    outside, rmse = problem.score(problem.values)
    limit = _Limit(outside, (1.0 + tolerance) * rmse + floor, floor)
    if not math.isfinite(limit.rmse):
        return formula
    problem.fix_redundant(limit, deadline)
    for _ in range(_MAX_PASSES):
        changed = problem.try_zeros(limit, deadline) | problem.try_simple_constants(limit, deadline)
        if not changed:
            break
    return _tidier(problem.rounded(precision, deadline))


def _tidier(expression):
    """The shortest of ``expression``, its common factors pulled out and, if short, sympy's simplification.

    ``1/(x0 + x1)`` for ``-1/(-x0 - x1)``, ``x0*(x1**2 + x2**2)/2`` for
    ``x0*x1**2/2 + x0*x2**2/2``. sympy's ``simplify`` runs only on formulas
    of at most ``_SIMPLIFY_NODES`` nodes: on long ones it can take minutes.
    """
    import sympy

    forms = [expression, sympy.factor_terms(expression)]
    if complexity(expression) <= _SIMPLIFY_NODES:
        forms.append(sympy.simplify(expression))
    return min(forms, key=complexity)  # the first of equally short forms: the one given


def complexity(formula):
    """Nodes of the expression tree of ``formula`` (a symbol, number or operator each counts one)."""
    import sympy

    return sum(1 for _ in sympy.preorder_traversal(formula))


@dataclass(frozen=True)
class _Limit:
    """What a change may cost: rows out of the formula's domain (NaN or inf) and validation RMSE on the others."""

    outside: int
    rmse: float
    floor: float

    def allows(self, score):
        return score[0] <= self.outside and score[1] <= self.rmse


def _past(deadline):
    return deadline is not None and time.perf_counter() >= deadline


def _simple_constants(value):
    """Simple exact numbers near ``value``, simplest first (integers, fractions, multiples of pi and 1/pi)."""
    import sympy

    found = {}
    for family, unit in ((0, 1.0), (1, math.pi), (2, 1.0 / math.pi)):
        for denominator in range(1, _MAX_DENOMINATOR + 1):
            numerator = round(value * denominator / unit)
            if numerator == 0:
                continue
            approximation = numerator * unit / denominator
            if abs(approximation - value) > _RELATIVE_WINDOW * abs(value):
                continue
            fraction = Fraction(numerator, denominator)  # reduced: 2/4 and 1/2 are one candidate
            constant = sympy.Rational(fraction.numerator, fraction.denominator) * (1, sympy.pi, 1 / sympy.pi)[family]
            # Simplest first: the bits that write the constant down (pi before 22/7, 1/2 before 5/9),
            # then the nearest.
            bits = math.log2(abs(fraction.numerator) + 1) + math.log2(fraction.denominator) + (family > 0)
            found.setdefault(constant, (round(bits, 9), abs(approximation - value)))
    ranked = sorted(found, key=lambda constant: found[constant])
    return ranked[:_CANDIDATES_PER_NUMBER]


class _ConstantProblem:
    """A formula with its numbers as parameters: evaluate, refit, change one number, rebuild."""

    def __init__(self, formula, data, feature_names):
        import sympy

        self._sympy = sympy
        self._X_train, self._y_train, self._X_validation, self._y_validation = data
        self._symbols = [sympy.Symbol(name) for name in feature_names]
        self._load(formula)

    def _load(self, expression):
        """Take ``expression``'s numbers as parameters, in the order they first appear."""
        sympy = self._sympy
        numbers = list(dict.fromkeys(a for a in sympy.preorder_traversal(expression) if isinstance(a, sympy.Float)))
        self._parameters = [sympy.Dummy(f"c{k}") for k in range(len(numbers))]
        self.values = np.array([float(number) for number in numbers], dtype=np.float64)
        self._template = expression.xreplace(dict(zip(numbers, self._parameters)))
        self._function = sympy.lambdify(
            [*self._symbols, *self._parameters], self._template, modules="numpy", dummify=True
        )

    def _predict(self, X, values):
        with np.errstate(all="ignore"):
            output = self._function(*X.T, *values)
        return np.broadcast_to(np.asarray(output, dtype=np.float64), (X.shape[0],))

    def score(self, values):
        """Rows (training and validation) where the formula is NaN or inf, and validation RMSE on the others."""
        residuals = self._predict(self._X_validation, values) - self._y_validation
        finite = np.isfinite(residuals)
        outside = int(np.sum(~finite) + np.sum(~np.isfinite(self._predict(self._X_train, values))))
        rmse = float(np.sqrt(np.mean(residuals[finite] ** 2))) if np.any(finite) else math.inf
        return outside, rmse

    def _refit(self, values, free):
        """``values`` with the ``free`` ones refitted by least squares on the training rows."""
        from scipy.optimize import least_squares

        free = np.flatnonzero(free)
        if free.size == 0:
            return values
        values = values.copy()

        def residuals(free_values):
            values[free] = free_values
            difference = self._predict(self._X_train, values) - self._y_train
            # A step out of the formula's domain reads as a large error, so the solver steps back.
            return np.where(np.isfinite(difference), difference, 1e10)

        start = values[free].copy()
        method = "lm" if self._X_train.shape[0] > free.size else "trf"
        try:
            solution = least_squares(
                residuals,
                start,
                method=method,
                xtol=1e-12,
                ftol=1e-12,
                gtol=1e-12,
                max_nfev=_REFIT_ITERATIONS * (free.size + 1),
            )
        except (ValueError, np.linalg.LinAlgError):
            values[free] = start
            return values
        values[free] = solution.x
        return values

    def _training_rss(self, values):
        residuals = self._predict(self._X_train, values) - self._y_train
        return float(np.sum(residuals[np.isfinite(residuals)] ** 2))

    def start(self):
        """Refit every number, and take that fit's residual variance as the noise the tests measure against."""
        refitted = self._refit(self.values, np.ones(self.values.size, dtype=bool))
        if self.score(refitted)[0] <= self.score(self.values)[0]:
            self.values = refitted
        self._best_rss = self._training_rss(self.values)
        self._variance = self._best_rss / max(self._y_train.size - self.values.size, 1)
        self._constraints = 0

    def _insignificant(self, values, floor):
        """Whether the training rows cannot tell ``values`` (one more number fixed) from the starting fit.

        The nested-model (likelihood-ratio) test of all the changes kept so
        far and this one together: the rise of the training residual sum of
        squares over the starting fit's, in units of that fit's residual
        variance, stays below the 99% quantile of chi-square with as many
        degrees of freedom as numbers fixed (plus the floor's share). A change
        that noise alone explains is kept and one the rows reject is not,
        however large the noise; a redundant number fixed costs no degree.
        """
        from scipy.stats import chi2

        allowed = chi2.ppf(_TEST_LEVEL, self._constraints + 1) * self._variance + self._y_train.size * floor**2
        return self._training_rss(values) - self._best_rss <= allowed

    def _try(self, index, constant, limit, redundant=False, start=None):
        """Replace number ``index`` by ``constant`` (a sympy number); keep it (True) if validation allows.

        ``start`` (default: the current numbers) is where the refit of the others starts.
        """
        values = (self.values if start is None else start).copy()
        values[index] = float(constant)
        free = np.ones(values.size, dtype=bool)
        free[index] = False
        values = self._refit(values, free)
        if not (limit.allows(self.score(values)) and self._insignificant(values, limit.floor)):
            return False
        self._constraints += 0 if redundant else 1
        replacements = {p: self._sympy.Float(v, 17) for p, v in zip(self._parameters, values)}
        replacements[self._parameters[index]] = constant
        self._load(self._template.xreplace(replacements))
        return True

    def _redundant_index(self, exclude):
        """A number that the others can stand in for exactly, and the null direction of the Jacobian; or None.

        ``p/q`` with the same factor in ``p`` and ``q``, or two offsets that
        add, leave such a freedom: snapping one number of it costs nothing and
        says nothing, so it is fixed first, at zero or plus or minus one.
        """
        if self.values.size < 2:
            return None
        scale = np.maximum(np.abs(self.values), _SMALL_NUMBER)
        columns = []
        for index in range(self.values.size):
            # Central differences (error ~ step squared): a null direction must show as one.
            step = np.zeros_like(self.values)
            step[index] = _JACOBIAN_STEP * scale[index]
            forward, backward = (
                self._predict(self._X_train, self.values + step),
                self._predict(self._X_train, self.values - step),
            )
            columns.append((forward - backward) / (2 * _JACOBIAN_STEP))
        jacobian = np.column_stack(columns)
        jacobian = jacobian[np.all(np.isfinite(jacobian), axis=1)]  # rows inside the formula's domain
        if jacobian.shape[0] < self.values.size:
            return None
        _, singular, right = np.linalg.svd(jacobian, full_matrices=False)
        if singular[-1] > _RANK_TOLERANCE * singular[0]:
            return None
        weights = np.abs(right[-1])
        weights[list(exclude)] = 0.0
        weights[np.abs(self.values) < _SMALL_NUMBER] = 0.0  # fixed at 1, these would move by orders of magnitude
        return (int(np.argmax(weights)), right[-1]) if weights.max() > 0 else None

    def fix_redundant(self, limit, deadline):
        """Fix the numbers that the others can stand in for, at 0 or +-1 (see :meth:`_redundant_index`)."""
        tried = set()  # numbers (by position) that could not be fixed; a kept change renumbers them all
        while not _past(deadline):
            found = self._redundant_index(tried)
            if found is None:
                return
            index, direction = found
            sign = 1 if self.values[index] >= 0 else -1
            if self._try(index, self._sympy.Integer(0), limit, redundant=True) or self._try(
                index, self._sympy.Integer(sign), limit, redundant=True, start=self._along(direction, index, sign)
            ):
                tried = set()
            else:
                tried.add(index)

    def _along(self, direction, index, target):
        """The numbers moved along a null ``direction`` until number ``index`` is ``target`` (same sign).

        A shared factor is a multiplicative freedom: each number moves by
        ``exp(s * direction)`` (a number near zero, by the linear step), so a
        factor fixed at 1 from 0.1 leaves the others where the refit needs them
        rather than ten times too far.
        """
        scale = np.maximum(np.abs(self.values), _SMALL_NUMBER)
        ratio = abs(target) / max(abs(self.values[index]), _SMALL_NUMBER)
        step = math.log(ratio) / direction[index]
        # The exponent is bounded: a direction that is no shared factor (two offsets that add) moves far.
        factor = np.exp(np.clip(step * direction, -_MAX_LOG_MOVE, _MAX_LOG_MOVE))
        values = np.where(
            np.abs(self.values) >= _SMALL_NUMBER, self.values * factor, self.values + step * direction * scale
        )
        values[index] = target
        return values if np.all(np.isfinite(values)) else None

    def try_zeros(self, limit, deadline):
        """Drop numbers (set to zero), the least needed first; whether any was dropped."""
        changed, attempted = False, set()
        while not _past(deadline):
            costs = {}
            for index in range(self.values.size):
                if self.values[index] in attempted:
                    continue
                values = self.values.copy()
                values[index] = 0.0
                costs[index] = self.score(values)
            if not costs:
                break
            index = min(costs, key=costs.get)
            attempted.add(self.values[index])
            if self._try(index, self._sympy.Integer(0), limit):
                changed = True
        return changed

    def try_simple_constants(self, limit, deadline):
        """Snap numbers to simple constants near them, first number first; whether any was snapped."""
        changed, index = False, 0
        while index < self.values.size and not _past(deadline):
            for constant in _simple_constants(self.values[index]):
                if _past(deadline):
                    break
                if self._try(index, constant, limit):
                    changed = True
                    break
            else:
                index += 1  # not snapped: the next number (a kept change reloads and renumbers)
        return changed

    def rounded(self, precision, deadline=None):
        """The formula with each number left rounded to ``precision`` decimals, the others refitted after each.

        After ``deadline`` the numbers are rounded without the refits.
        """
        values = self.values.copy()
        free = np.ones(values.size, dtype=bool)
        for index in range(values.size):
            values[index] = round(values[index], precision)
            free[index] = False
            if not _past(deadline):
                values = self._refit(values, free)
        return self._template.xreplace({p: _printed_number(v, precision) for p, v in zip(self._parameters, values)})


def _printed_number(value, precision):
    """``value`` rounded to ``precision`` decimals, as an integer when it is one, else with the digits it has."""
    import sympy

    text = f"{value:.{precision}f}".rstrip("0").rstrip(".")
    number = float(text)
    return sympy.Integer(int(number)) if number.is_integer() else sympy.Float(text, "")
