"""Formulas of models with missing values and categorical inputs (issue 15 items 2-3, issue 13 item 1)."""

import copy
import pickle

import numpy as np
import pytest
import sympy

from skkan import KANClassifier, KANRegressor
from skkan.interpret._formula import formula_to_numpy
from skkan.interpret._formula_terms import IsCategory, IsMissing

pd = pytest.importorskip("pandas")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.default_rng(0)
N = 120
X_VALUES = RNG.uniform(-1, 1, N)
Z_VALUES = RNG.uniform(-1, 1, N)
COLOURS = RNG.choice(["red", "green", "dark_blue"], N)
GRADES = RNG.choice([1.0, 2.0, 5.0], N)
EFFECT = {"red": 1.0, "green": -1.0, "dark_blue": 0.0}
MISSING = RNG.random(N) < 0.2


FRAME = pd.DataFrame({"x": np.where(MISSING, np.nan, X_VALUES), "z": Z_VALUES, "colour": COLOURS, "grade": GRADES})
Y = np.where(MISSING, 0.5, X_VALUES**2) + 0.5 * Z_VALUES + np.array([EFFECT[c] for c in COLOURS]) + 0.1 * GRADES
# Rows with a missing x, every category of both categorical inputs, unknown categories and missing categories.
PROBE = pd.DataFrame(
    {
        "x": [np.nan, 0.5, -0.3, 0.1, np.nan, 0.2, 0.7],
        "z": [0.1, -0.2, 0.3, 0.0, 0.5, -0.5, 0.9],
        "colour": ["red", "green", "dark_blue", "purple", None, "red", "green"],
        "grade": [1.0, 2.0, 5.0, 3.0, np.nan, 5.0, 1.0],
    }
)


def _fit(hidden_layer_sizes=(), estimator=KANRegressor, y=Y):
    regressor = estimator(
        hidden_layer_sizes=hidden_layer_sizes,
        max_iter=2,
        optimizer="adam",
        early_stopping=False,
        dtype="float64",
        random_state=0,
        categorical_features=["colour", "grade"],
    )
    return regressor.fit(FRAME, y)


@pytest.fixture(scope="module")
def additive():
    """A one-layer model: every input is one term of the formula."""
    return _fit()


def _conditions(expression, kind):
    return {
        condition
        for piecewise in expression.atoms(sympy.Piecewise)
        for _, condition in piecewise.args
        for condition in [condition, *condition.args]
        if isinstance(condition, kind)
    }


def test_formula_has_missing_and_category_terms(additive):
    formula = additive.symbolic_formula()[0]
    x, z, colour, grade = sympy.symbols("x z colour grade")
    assert _conditions(formula, IsMissing) == {IsMissing(x)}  # z was never missing in training
    labels = {(str(c.args[0]), c.args[1].name, int(c.args[2])) for c in _conditions(formula, IsCategory)}
    assert labels >= {("colour", "'dark_blue'", 0), ("colour", "'red'", 2), ("grade", "5", 2)}
    text = str(formula)
    assert "isnan(x)" in text and "Eq(colour, 'red')" in text and "Eq(grade, 5)" in text
    assert "isnan(z)" not in text
    assert formula.free_symbols == {x, z, colour, grade}
    assert pickle.loads(pickle.dumps(formula)) == formula


def test_latex_renders_cases_and_escaped_labels(additive):
    latex = additive.symbolic_latex()[0]
    assert r"\begin{cases}" in latex
    assert r"x \text{ is missing}" in latex
    assert r"colour = \text{dark\_blue}" in latex and "grade = 5" in latex


def test_numpy_function_agrees_with_predict_after_auto_symbolic(additive):
    regressor = copy.deepcopy(additive)
    regressor.fix_symbolic(0, 0, 0, "x^2")
    # NaN in X and categorical columns as strings: fine-tuning reads X as predict does.
    regressor.auto_symbolic(0.9, X=FRAME, y=Y, library=["x", "x^2"], max_iter=2)
    assert ("x^2" in {entry[3] for entry in regressor.symbolic_edges_}) and all(
        entry[1] not in (2, 3) for entry in regressor.symbolic_edges_
    ), "categorical edges are never snapped"
    formula = regressor.symbolic_formula()[0]
    assert formula.has(sympy.Symbol("x") ** 2) and _conditions(formula, IsMissing)
    exact = regressor.symbolic_function(precision=12, simplify=False)
    np.testing.assert_allclose(exact(PROBE), regressor.predict(PROBE), rtol=1e-6)
    np.testing.assert_allclose(exact(FRAME), regressor.predict(FRAME), rtol=1e-6)


def test_numpy_function_evaluates_nested_terms_in_a_deeper_network():
    regressor = _fit(hidden_layer_sizes=(2,))
    formula = regressor.symbolic_formula()[0]
    # First-layer Piecewise terms sit inside the second layer's spline functions.
    from skkan.interpret._spline_edge import SplineEdge

    applications = formula.atoms(SplineEdge)
    assert any(application.has(sympy.Piecewise) for application in applications)
    exact = regressor.symbolic_function(precision=12, simplify=False)
    np.testing.assert_allclose(exact(PROBE), regressor.predict(PROBE), rtol=1e-6)


def test_classifier_logit_formula_agrees_with_predict_proba():
    classifier = _fit(estimator=KANClassifier, y=Y > np.median(Y))
    logit = classifier.symbolic_function(precision=12, simplify=False)(PROBE)
    np.testing.assert_allclose(1 / (1 + np.exp(-logit)), classifier.predict_proba(PROBE)[:, 1], rtol=1e-6)


def test_an_input_never_missing_in_training_keeps_a_compact_term(additive):
    """Its missing value is only the edge's mean; the formula leaves it out, so it is NaN there."""
    exact = additive.symbolic_function(precision=12, simplify=False)
    row = PROBE.iloc[[1]].assign(z=np.nan)
    assert np.isnan(exact(row)).all()
    assert np.isfinite(additive.predict(row)).all()


def test_symbolic_table_has_lookup_and_missing_rows(additive):
    table = additive.symbolic_table(["x", "x^2"])
    kinds = table.groupby("edge")["kind"].apply(list).to_dict()
    assert kinds == {
        "x -> y": ["spline", "missing"],
        "z -> y": ["spline"],
        "colour -> y": ["lookup"],
        "grade -> y": ["lookup"],
    }
    lookup = table[table["kind"] == "lookup"]
    assert lookup["function"].tolist() == ["lookup", "lookup"]
    assert lookup["complexity"].tolist() == [4, 4]  # three categories and the unknown default
    assert (lookup["r2"] == 1.0).all() and (lookup["importance"] > 0).all()
    assert table.loc[table["kind"] == "missing", "importance"].isna().all()


def test_formula_never_raises_when_snapping_every_edge(additive):
    formula = additive.symbolic_formula(spline_edges="snap", library=["x", "x^2"])[0]
    assert not formula.atoms(sympy.core.function.AppliedUndef)
    assert _conditions(formula, IsMissing) and _conditions(formula, IsCategory)


def test_sympy_simplify_keeps_the_conditions(additive):
    formula = additive.symbolic_formula()[0]
    # sympy's simplification keeps the branches (it simplified a boolean function of non-boolean
    # arguments to a constant) and the simplified formula takes the same values, up to the digits
    # sympy keeps when it adds the formula's numbers (as many as they print with).
    simplified = sympy.simplify(formula)
    assert simplified != formula
    names = list(FRAME.columns)
    view = additive.fitted_view_
    np.testing.assert_allclose(
        formula_to_numpy([simplified], names, view)(PROBE), formula_to_numpy([formula], names, view)(PROBE), atol=1e-3
    )
    # A numeric category compares as printed; an unknown one takes the default. (One layer: the
    # term is the edge's table times the target scale.)
    grade = sympy.Symbol("grade")
    (term,) = [term for term in formula.atoms(sympy.Piecewise) if term.has(grade)]
    values = view.category_values(3)[:, 0] * view.target_scale[0]
    for value, expected in ((1, values[0]), (5, values[2]), (3, values[3])):
        assert float(term.subs(grade, value)) == pytest.approx(expected, abs=1e-4)


def test_categorical_edges_cannot_be_snapped_by_hand(additive):
    with pytest.raises(ValueError, match="categorical feature 'colour'.*lookup table"):
        additive.suggest_symbolic(0, 2, 0)
    with pytest.raises(ValueError, match="categorical feature 'grade'"):
        copy.deepcopy(additive).fix_symbolic(0, 3, 0, "x")


def test_features_named_like_numpy_functions_do_not_shadow_them(additive):
    renamed = copy.deepcopy(additive)
    names = ["isnan", "sin", "equal", "select"]
    renamed.feature_names_in_ = np.array(names, dtype=object)
    assert "isnan(isnan)" in str(renamed.symbolic_formula()[0])
    exact = renamed.symbolic_function(precision=12, simplify=False)
    np.testing.assert_allclose(exact(PROBE.set_axis(names, axis=1)), additive.predict(PROBE), rtol=1e-6)


@pytest.mark.parametrize("language, missing", [("python", "math.isnan("), ("c", "isnan("), ("javascript", "isNaN(")])
def test_code_of_a_formula_with_categories_and_missing_values(additive, language, missing):
    code = additive.symbolic_code(language, spline_edges="snap", library=["x", "x^2"])[0]
    assert missing in code and ("==" in code)
    assert "f_0_" not in code
