"""monotonic_cst: predictions that move only in the allowed direction, everywhere, by construction."""

import copy
import pickle
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from skkan import KANClassifier, KANRegressor, UnsafeModelError, get_trusted_types
from skkan._constraints import resolve_monotonic_cst
from skkan._engine import KANNetwork
from skkan._engine.monotone import check_monotone, enforce_monotone

RNG = np.random.default_rng(0)
X = RNG.uniform(-1, 1, size=(500, 4))


def _target(X):
    # Increasing in x1, decreasing in x3; x0 and x2 free (and interacting with x1).
    return np.sin(3 * X[:, 0]) + np.exp(X[:, 1]) + 0.5 * X[:, 0] * X[:, 1] - X[:, 3] ** 3 + X[:, 2] ** 2


Y = _target(X) + 0.05 * RNG.normal(size=X.shape[0])
CST = [0, 1, 0, -1]
# classes_ are ["no", "yes"]: the constraints apply to the logit of "yes", as in HistGradientBoosting.
LABELS = np.where(Y > np.median(Y), "yes", "no")


def _quiet_fit(model, X_fit=X, y=Y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X_fit, y)


def _violations(predict, rows, feature, direction, values):
    """Rows x values where the prediction moves against ``direction`` as ``feature`` grows through ``values``."""
    grid = np.repeat(rows, len(values), axis=0)
    grid[:, feature] = np.tile(np.sort(values), rows.shape[0])
    curves = predict(grid).reshape(rows.shape[0], len(values))
    return int((np.diff(curves, axis=1) * direction < 0).sum())


EXTREMES = np.array([-1e6, -1e3, -50.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 50.0, 1e3, 1e6])


# --- resolving the parameter ---


def test_resolution():
    assert resolve_monotonic_cst(None, 3) is None
    assert resolve_monotonic_cst([0, 0, 0], 3) is None
    assert resolve_monotonic_cst(np.array([1, 0, -1]), 3) == (1, 0, -1)
    assert resolve_monotonic_cst({"b": -1}, 3, np.array(["a", "b", "c"], dtype=object)) == (0, -1, 0)


@pytest.mark.parametrize(
    "constraint, kwargs, message",
    [
        ([1, 0], {}, "has 2 values but X has 3"),
        ([1, 0, 2], {}, "must hold -1, 0 or 1"),
        ([1, 0, 0.5], {}, "must hold -1, 0 or 1"),
        ([True, 0, 0], {}, "must hold -1, 0 or 1"),
        ({"a": 1}, {}, "no feature names"),
        ({"z": 1}, {"feature_names": np.array(["a", "b", "c"], dtype=object)}, "not a column"),
        ({"a": 3}, {"feature_names": np.array(["a", "b", "c"], dtype=object)}, "must hold -1, 0 or 1"),
        ([0, 1, 0], {"is_categorical": np.array([False, True, False])}, "categorical features \\[1\\]"),
        ([0, 1, 0], {"n_outputs": 3, "is_classifier": True}, "binary classification only"),
    ],
)
def test_bad_constraints_get_clear_errors(constraint, kwargs, message):
    with pytest.raises(ValueError, match=message):
        resolve_monotonic_cst(constraint, 3, **kwargs)


def test_multiclass_is_refused_and_the_fitted_model_kept():
    y = np.digitize(X[:, 0], [-0.3, 0.3])
    model = _quiet_fit(KANClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0), y=y)
    before = model.predict_proba(X)
    with pytest.raises(ValueError, match="binary classification only"):
        model.set_params(monotonic_cst=[1, 0, 0, 0]).fit(X, y)
    np.testing.assert_array_equal(model.predict_proba(X), before)


def test_multiplication_nodes_are_refused():
    with pytest.raises(ValueError, match="multiplication_nodes"):
        _quiet_fit(KANRegressor(monotonic_cst=CST, multiplication_nodes=1, hidden_layer_sizes=(2,)))


# --- the guarantee ---


@pytest.fixture(scope="module")
def constrained():
    regressor = _quiet_fit(KANRegressor(monotonic_cst=CST, random_state=0))
    continuing = _quiet_fit(KANRegressor(monotonic_cst=CST, extrapolation="continue", ensemble_size=1, random_state=0))
    deep = _quiet_fit(KANRegressor(monotonic_cst=CST, hidden_layer_sizes=(6, 4), max_iter=40, random_state=0))
    grouped = _quiet_fit(KANRegressor(monotonic_cst=CST, interaction_cst=[[0, 1], [2, 3]], random_state=0))
    classifier = _quiet_fit(KANClassifier(monotonic_cst=CST, random_state=0), y=LABELS)
    return {
        "regressor": regressor.predict,
        "continuing": continuing.predict,
        "deep": deep.predict,
        "grouped": grouped.predict,
        "classifier": classifier.decision_function,
    }


@pytest.mark.parametrize("kind", ["regressor", "continuing", "deep", "grouped", "classifier"])
@settings(max_examples=10, deadline=None)
@given(
    row=st.lists(st.one_of(st.floats(-3, 3), st.sampled_from([-1e6, 1e6])), min_size=4, max_size=4),
    values=st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=30),
)
def test_predictions_move_only_in_the_allowed_direction(constrained, kind, row, values):
    predict = constrained[kind]
    rows = np.array([row])
    for feature, direction in ((1, 1), (3, -1)):
        for grid in (np.array(values), EXTREMES):
            assert _violations(predict, rows, feature, direction, grid) == 0


def test_no_violation_on_a_dense_grid(constrained):
    rows = RNG.uniform(-2, 2, size=(200, 4))
    values = np.concatenate([np.linspace(-4, 4, 190), EXTREMES[:5], EXTREMES[-5:]])
    for kind in ("regressor", "classifier"):
        for feature, direction in ((1, 1), (3, -1)):
            assert _violations(constrained[kind], rows, feature, direction, values) == 0


def test_a_truly_monotone_feature_costs_little_accuracy():
    X_test = RNG.uniform(-1, 1, size=(2000, 4))
    y_test = _target(X_test)
    free = _quiet_fit(KANRegressor(random_state=0)).score(X_test, y_test)
    constrained = _quiet_fit(KANRegressor(monotonic_cst=CST, random_state=0)).score(X_test, y_test)
    assert constrained >= free - 0.02


def test_the_guarantee_survives_grid_extension_pruning_warm_start_and_partial_fit():
    model = _quiet_fit(
        KANRegressor(
            monotonic_cst=CST, grid_extension=(12,), ensemble_size=1, early_stopping=False, max_iter=30, random_state=0
        )
    )
    assert model.network_.grid_size == 12
    model.prune(0.02)
    model.set_params(warm_start=True, max_iter=5)
    _quiet_fit(model)
    for _ in range(2):
        model.partial_fit(X, Y)
    streamed = KANRegressor(monotonic_cst=CST, random_state=0)
    for _ in range(3):
        streamed.partial_fit(X, Y)
    rows = RNG.uniform(-2, 2, size=(50, 4))
    for fitted in (model, streamed):
        assert check_monotone(fitted.network_)
        assert _violations(fitted.predict, rows, 1, 1, EXTREMES) == 0
        assert _violations(fitted.predict, rows, 3, -1, EXTREMES) == 0


def test_constrained_edges_stay_splines_when_snapping():
    pytest.importorskip("sympy")
    model = _quiet_fit(KANRegressor(monotonic_cst=CST, ensemble_size=1, max_iter=30, random_state=0))
    model.auto_symbolic(0.5, max_iter=5)
    view = model.fitted_view_
    for layer in range(view.n_layers):
        assert not any(view.monotone_edges(layer)[i, j] for i, j in view.symbolic_edges(layer))
    assert check_monotone(model.network_)
    assert _violations(model.predict, RNG.uniform(-2, 2, size=(30, 4)), 1, 1, EXTREMES) == 0
    with pytest.raises(ValueError, match="monotonic_cst"):
        model.fix_symbolic(0, 1, 0, "x")


def test_constraints_survive_pickle_and_skops_and_tampering_is_refused():
    sio = pytest.importorskip("skops.io")
    model = _quiet_fit(KANRegressor(monotonic_cst=CST, hidden_layer_sizes=(4,), max_iter=10, random_state=0))
    for loaded in (pickle.loads(pickle.dumps(model)), sio.loads(sio.dumps(model), trusted=get_trusted_types())):
        assert loaded.fitted_view_.monotone_directions == CST
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
        with pytest.raises(ValueError, match="monotonic_cst"):
            loaded.set_params(warm_start=True, monotonic_cst=[1, 0, 0, 0]).fit(X, Y)
    state = copy.deepcopy(model.__getstate__())
    state["network_"]["__skkan_network__"]["layers"][0]["base_weight"][1, 0] = 0.5  # a SiLU residual: not monotone
    with pytest.raises(UnsafeModelError, match="monotone"):
        KANRegressor.__new__(KANRegressor).__setstate__(state)


def test_enforcing_leaves_a_monotone_network_unchanged_and_repairs_any_other():
    generator = torch.Generator().manual_seed(0)
    network = KANNetwork([3, 6, 2], 5, 3, generator=generator, dtype=torch.float64, monotone=[1, 0, -1])
    assert check_monotone(network)
    state = copy.deepcopy(network.state_dict())
    enforce_monotone(network)
    for name, value in network.state_dict().items():
        assert torch.equal(value, state[name]), name
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.add_(torch.randn(parameter.shape, generator=generator, dtype=torch.float64))
    assert not check_monotone(network)
    enforce_monotone(network)
    assert check_monotone(network)


def test_names_and_dataframes():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["area", "rooms", "age", "floor"])
    model = _quiet_fit(KANRegressor(monotonic_cst={"rooms": 1, "floor": -1}, max_iter=10, random_state=0), frame, Y)
    assert model.fitted_view_.monotone_directions == CST


def test_constraints_are_ordinary_hyperparameters():
    # scikit-learn's common checks fit data of many widths, which one fixed constraint list cannot match (as
    # for HistGradientBoosting); clone, get_params and a grid search are what users rely on.
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV

    model = KANRegressor(monotonic_cst=CST, interaction_cst="no_interactions", max_iter=5, random_state=0)
    copy_ = clone(model)
    assert copy_.get_params()["monotonic_cst"] == CST
    assert copy_.get_params()["interaction_cst"] == "no_interactions"
    search = GridSearchCV(
        KANRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0),
        {"monotonic_cst": [None, CST], "interaction_cst": [None, [[0, 1]]]},
        cv=2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X[:200], Y[:200])
    assert len(search.cv_results_["params"]) == 4
