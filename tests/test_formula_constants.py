"""Simplifying a formula's numbers under validation (``skkan._formula_constants``)."""

import time

import numpy as np
import pytest

sympy = pytest.importorskip("sympy")

from skkan._formula_constants import simplify_constants  # noqa: E402

x0, x1 = sympy.symbols("x0 x1")


def _data(law, noise=0.0, n=400, low=1.0, high=3.0, seed=0):
    """Training and validation rows (3:1) of ``law`` of two inputs, with Gaussian noise of ``noise`` * std(y)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(low, high, size=(n, 2))
    y = sympy.lambdify([x0, x1], law, "numpy")(X[:, 0], X[:, 1]) * np.ones(n)
    y = y + noise * np.std(y) * rng.normal(size=n)
    split = 3 * n // 4
    return X[:split], y[:split], X[split:], y[split:]


def _simplify(formula, data, tolerance=0.05, precision=4, deadline=None):
    return simplify_constants(
        formula,
        data,
        ["x0", "x1"],
        tolerance=tolerance,
        floor=1e-9 * float(np.std(data[1])),
        precision=precision,
        deadline=deadline,
    )


def test_a_number_at_a_simple_constant_snaps_to_it():
    # 1/(4*pi) is no fraction of small denominator: the pi family finds it, and the formula is then exact.
    law = x0 / (4 * sympy.pi * x1**2)
    formula = sympy.Float(1 / (4 * np.pi), 15) * x0 / x1**2
    assert sympy.simplify(_simplify(formula, _data(law)) - law) == 0


def test_noise_in_the_numbers_is_dropped_when_the_rows_cannot_tell():
    # At 1% noise the fitted numbers are off in the third decimal and carry tiny terms.
    law = x0 * x1
    data = _data(law, noise=0.01)
    formula = 1.0021 * x0**1.0034 * x1 + 0.0012 * x1 - 0.0009
    assert _simplify(formula, data) == law


def test_a_number_the_rows_determine_is_kept_to_the_precision():
    # 1.37 lies within 3% of 4/3, 11/8, 15/11 and 7/5; 1% noise on 300 rows rejects each of them.
    data = _data(sympy.Float(1.37) * x0 + x1, noise=0.01)
    simplified = _simplify(sympy.Float(1.3712) * x0 + sympy.Float(0.9994) * x1, data)
    assert simplified.free_symbols == {x0, x1}
    coefficient = simplified.coeff(x0)
    assert isinstance(coefficient, sympy.Float) and abs(float(coefficient) - 1.37) < 2e-3
    assert simplified.coeff(x1) == 1


def test_redundant_scales_are_fixed_before_snapping():
    # Numerator and denominator share a free factor: fixing it leaves the law's own numbers.
    law = (x0 + 1) / (x1 + 2)
    formula = sympy.Add(2.6 * x0, 2.6, evaluate=False) / sympy.Add(2.6 * x1, 5.2, evaluate=False)
    assert sympy.simplify(_simplify(formula, _data(law)) - law) == 0


def test_terms_out_of_the_domain_on_some_rows_are_dropped():
    # sqrt(x0 - 2) is NaN on half the rows: dropping its tiny term makes the formula finite everywhere.
    law = x0 * x1
    formula = x0 * x1 + sympy.Float(1e-9) * sympy.sqrt(x0 - 2)
    simplified = _simplify(formula, _data(law))
    assert simplified == law


def test_a_change_that_costs_validation_accuracy_is_not_kept():
    # Noise-free: 2.0 * x0 + 0.001 * x1**2 needs its small term (its RMSE would rise far above the floor).
    law = 2 * x0 + sympy.Rational(1, 1000) * x1**2
    formula = sympy.Float(2.0) * x0 + sympy.Float(0.001) * x1**2
    simplified = _simplify(formula, _data(law), precision=6)
    assert sympy.simplify(simplified - law) == 0


def test_a_past_deadline_only_rounds():
    law = x0 * x1 + sympy.Rational(1, 2)
    data = _data(law, noise=0.01)
    formula = sympy.Float(1.0003) * x0 * x1 + sympy.Float(0.5004)
    assert _simplify(formula, data) == law
    rounded = _simplify(formula, data, deadline=time.perf_counter() - 1.0)
    assert rounded.atoms(sympy.Float) and all(len(str(number)) <= 6 for number in rounded.atoms(sympy.Float))


def test_an_exact_formula_is_left_as_it_is():
    law = sympy.sin(sympy.pi * x0) * x1**2
    assert _simplify(law, _data(law)) == law


def test_scales_inside_powers_merge_once_the_powers_are_whole():
    # A formula as a network gives it on noisy x0/x1: each input scaled and shifted, raised to a power
    # near 1, and an outer factor; once the exponents are 1 and the shifts 0, the scales are one number.
    law = x0 / x1
    data = _data(law, noise=0.01)
    formula = sympy.sympify("0.9053*(3.5309*x0 + 0.0558)**1.0082/(3.455*x1 - 0.0976)**0.9779 - 0.002")
    assert _simplify(formula, data) == law


def test_the_result_never_validates_worse_than_the_tolerance_allows():
    # Formulas of the wrong shape: whatever is simplified, the validation RMSE stays within the limit.
    data = _data(x0 * sympy.exp(x1 / 3), noise=0.01)
    formulas = [
        sympy.sympify("(-0.9972*x0*x1**2 - 3.8444*x0*x1 - 5.5386*x0 - 0.012*x1**2 + 0.0061)/(1.7275*x1 - 5.5409)"),
        sympy.sympify("0.51*x0*x1 + 0.8*x0 + 0.02*sqrt(2.3*x1 - 1.1) + 0.03"),
    ]
    X_validation, y_validation = data[2], data[3]
    for formula in formulas:
        before = sympy.lambdify([x0, x1], formula, "numpy")(*X_validation.T)
        simplified = _simplify(formula, data, tolerance=0.05, precision=15)
        after = sympy.lambdify([x0, x1], simplified, "numpy")(*X_validation.T)
        rmse_before = np.sqrt(np.mean((before - y_validation) ** 2))
        rmse_after = np.sqrt(np.mean((after - y_validation) ** 2))
        assert np.isfinite(rmse_after) and rmse_after <= 1.05 * rmse_before + 1e-9


def test_a_shared_factor_far_from_one_is_fixed_at_one():
    # 3.19 * sqrt(0.098 * (...)): the factor moves ~10x when fixed at 1; the others follow it along
    # the null direction, so the refit starts where it needs to be.
    law = sympy.sqrt(x0**2 - 2 * x0 * x1 + 2 * x1**2)
    scale = sympy.Float(0.0980770128774)
    formula = sympy.Float(1 / np.sqrt(0.0980770128774), 15) * sympy.sqrt(
        scale * x0**2 - 2 * scale * x0 * x1 + 2 * scale * x1**2
    )
    assert sympy.simplify(_simplify(formula, _data(law)) - law) == 0
