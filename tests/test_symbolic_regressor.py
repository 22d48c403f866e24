"""KANSymbolicRegressor: formulas found by the structure search, the selection, errors, persistence, sklearn use."""

import pickle

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skkan import KANRegressor, KANSymbolicRegressor

sympy = pytest.importorskip("sympy")
# Every search trains one or more networks: several seconds per test.
pytestmark = pytest.mark.slow


def _inputs(n=300, n_features=2, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, size=(n, n_features))


@pytest.fixture(scope="module")
def product_model():
    X = _inputs()
    return KANSymbolicRegressor(random_state=0).fit(X, X[:, 0] * X[:, 1]), X


def test_recovers_a_product(product_model):
    model, X = product_model
    x0, x1 = sympy.symbols("x0 x1")
    assert sympy.simplify(model.formula_ - x0 * x1) == 0
    assert model.validation_rmse_ < 1e-9
    # Exact recovery ends the search: the additive structure, then the product, and nothing after.
    assert model.n_candidates_ == 2
    assert model.structure_["multiplication_nodes"] == 1


def test_recovers_a_sum_of_functions_with_feature_names():
    pd = pytest.importorskip("pandas")
    X = _inputs(seed=1)
    frame = pd.DataFrame(X, columns=["speed", "angle (rad)"])
    model = KANSymbolicRegressor(random_state=0).fit(frame, np.sin(2 * X[:, 0]) + X[:, 1] ** 2)
    speed, angle = sympy.Symbol("speed"), sympy.Symbol("angle (rad)")
    assert sympy.simplify(model.formula_ - (sympy.sin(2 * speed) + angle**2)) == 0
    assert list(model.feature_names_in_) == ["speed", "angle (rad)"]
    # A name that is no identifier still evaluates.
    np.testing.assert_allclose(model.predict(frame), np.sin(2 * X[:, 0]) + X[:, 1] ** 2, rtol=1e-9)


def test_recovers_a_composition():
    # One structure given, to keep the test short: exp of a sum needs a hidden sum node.
    X = _inputs(seed=7)
    model = KANSymbolicRegressor(structures=[((1,), 0)], random_state=0).fit(X, np.exp(X[:, 0] + X[:, 1] ** 2))
    x0, x1 = sympy.symbols("x0 x1")
    assert sympy.simplify(model.formula_ - sympy.exp(x0 + x1**2)) == 0


def test_recovers_a_product_from_noisy_rows():
    # 1% noise: the fitted numbers carry it (1.0021*x0**0.998...); the simplification under validation
    # drops the tiny terms and snaps the numbers the rows cannot tell from 1.
    X = _inputs(n=400, seed=4)
    y = X[:, 0] * X[:, 1]
    y = y + 0.01 * np.std(y) * np.random.default_rng(5).normal(size=y.size)
    model = KANSymbolicRegressor(structures=[((0,), 1)], random_state=0).fit(X, y)
    assert model.formula_ == sympy.Symbol("x0") * sympy.Symbol("x1")


def test_formula_lambdifies_and_agrees_with_predict(product_model):
    model, _ = product_model
    X = _inputs(n=50, seed=2)
    function = sympy.lambdify(sympy.symbols("x0 x1"), model.formula_, "numpy")
    np.testing.assert_allclose(model.predict(X), function(X[:, 0], X[:, 1]), rtol=1e-9)
    assert "x0*x1" in sympy.ccode(model.formula_)
    assert model.score(X, X[:, 0] * X[:, 1]) == pytest.approx(1.0)


def test_pareto_front_lists_nondominated_candidates_simplest_first(product_model):
    model, _ = product_model
    front = model.pareto_front_
    assert front and set(front[0]) == {"complexity", "validation_rmse", "formula", "structure", "seconds"}
    complexities = [row["complexity"] for row in front]
    rmses = [row["validation_rmse"] for row in front]
    assert complexities == sorted(complexities)
    assert all(later < earlier for earlier, later in zip(rmses, rmses[1:]))
    assert any(row["formula"] == model.formula_ for row in front)
    assert set(front[0]["structure"]) == {"hidden_layer_sizes", "multiplication_nodes", "lamb", "prune_threshold"}


def test_pickle_round_trip_rebuilds_the_function(product_model):
    model, X = product_model
    loaded = pickle.loads(pickle.dumps(model))
    assert "_predict_function" not in model.__getstate__()
    assert loaded.formula_ == model.formula_
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_selection_prefers_the_simpler_formula_within_tolerance():
    # Linear data: the additive structure is exact and simplest, so it is kept and the search stops.
    X = _inputs(n=60, n_features=3, seed=3)
    y = 2 * X[:, 0] - X[:, 2] + 0.5
    model = KANSymbolicRegressor(random_state=0).fit(X, y)
    x0, x2 = sympy.symbols("x0 x2")
    assert sympy.simplify(model.formula_ - (2 * x0 - x2 + sympy.Rational(1, 2))) == 0
    assert model.n_candidates_ == 1


@pytest.mark.parametrize(
    "X, y, message",
    [
        (_inputs(n=30), np.r_[np.nan, np.ones(29)], "NaN"),
        (_inputs(n=30), np.full(30, 3.0), "constant"),
        (_inputs(n=1), np.ones(1), "1 sample"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(X, y, message):
    with pytest.raises(ValueError, match=message):
        KANSymbolicRegressor().fit(X, y)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"function_library": ["sin", "sinh"]}, "unknown function names \\['sinh'\\]"),
        ({"function_library": []}, "at least one function"),
        ({"structures": [((1,),)]}, "Each entry of structures"),
        ({"structures": [((), 1)]}, "product nodes need a hidden layer"),
        ({"time_budget": 0}, "time_budget"),
        ({"tolerance": -1.0}, "tolerance"),
    ],
)
def test_bad_parameters_are_refused(params, message):
    X = _inputs(n=30)
    with pytest.raises(ValueError, match=message):
        KANSymbolicRegressor(**params).fit(X, X[:, 0])


def test_a_tiny_time_budget_keeps_the_first_formula_with_a_warning():
    X = _inputs(n=60)
    structures = [((), 0), ((1,), 0)]
    with pytest.warns(UserWarning, match="time budget .* after 1 of 2 structures"):
        model = KANSymbolicRegressor(time_budget=1e-6, structures=structures, random_state=0).fit(X, X[:, 0] * X[:, 1])
    assert model.n_candidates_ == 1
    assert model.structure_["hidden_layer_sizes"] == ()


def test_function_library_restricts_the_snapped_functions():
    X = _inputs(n=60, n_features=1, seed=4)
    model = KANSymbolicRegressor(function_library=["x", "x^2"], structures=[((), 0)], random_state=0)
    model.fit(X, np.sin(2 * X[:, 0]))
    assert not model.formula_.has(sympy.sin)


def test_works_in_a_pipeline_and_grid_search():
    X = _inputs(n=60, seed=5)
    y = 3 * X[:, 0] + X[:, 1]
    pipeline = make_pipeline(FunctionTransformer(), KANSymbolicRegressor(structures=[((), 0)], random_state=0))
    search = GridSearchCV(pipeline, {"kansymbolicregressor__tolerance": [0.0, 0.1]}, cv=2).fit(X, y)
    assert search.best_score_ > 0.999
    assert search.predict(X).shape == (60,)


def test_parallel_candidates_give_the_same_formula():
    X = _inputs(n=60, seed=6)
    y = X[:, 0] ** 2 + X[:, 1]
    structures = [((), 0), ((1,), 0)]
    serial = KANSymbolicRegressor(structures=structures, random_state=0).fit(X, y)
    # Threads start faster than processes; the batches and the choice are the same with either backend.
    with parallel_config(backend="threading"):
        parallel = KANSymbolicRegressor(structures=structures, n_jobs=2, random_state=0).fit(X, y)
    assert serial.formula_ == parallel.formula_
    assert serial.n_candidates_ == parallel.n_candidates_


def test_same_random_state_gives_the_same_formula_on_noisy_data():
    # Noise leaves the polished constants in flat valleys, where a solver that is not
    # deterministic shows first (the formulas' constants once differed from run to run).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = 40 * X[:, 0] - 20 * X[:, 1] * X[:, 2] + 5 + rng.normal(scale=20, size=200)
    structures = [((), 0)]
    first = KANSymbolicRegressor(structures=structures, random_state=0).fit(X, y)
    second = KANSymbolicRegressor(structures=structures, random_state=0).fit(X, y)
    assert str(first.formula_) == str(second.formula_)
    np.testing.assert_array_equal(first.predict(X), second.predict(X))


def test_the_running_candidate_gets_the_rest_of_the_time_budget(monkeypatch):
    # The candidate's polishing stops where the search's budget ends (auto_symbolic's time_budget),
    # so one slow candidate cannot run on for minutes past it.
    budgets = []
    original = KANRegressor.auto_symbolic

    def recording(self, *args, **kwargs):
        budgets.append(kwargs.get("time_budget"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(KANRegressor, "auto_symbolic", recording)
    X = _inputs(n=60)
    KANSymbolicRegressor(time_budget=30.0, structures=[((), 0), ((1,), 0)], random_state=0).fit(X, X[:, 0] * X[:, 1])
    assert len(budgets) == 2
    assert all(0 < budget <= 30.0 for budget in budgets)
    assert budgets[1] < budgets[0]
