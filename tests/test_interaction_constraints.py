"""interaction_cst: feature groups that never meet in a hidden node, and the additive KAN it gives."""

import copy
import itertools
import math
import pickle
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from skkan import KANClassifier, KANRegressor, UnsafeModelError, get_trusted_types
from skkan._constraints import MAX_INTERACTION_GROUPS, resolve_interaction_groups

RNG = np.random.default_rng(0)
X = RNG.uniform(-1, 1, size=(400, 4))
Y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + X[:, 3] ** 2
LABELS = np.where(X[:, 0] * X[:, 1] + X[:, 2] > 0, "yes", "no")


def _quiet_fit(model, X_fit=X, y=Y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X_fit, y)


def _mixed_difference(predict, rows, i, j, step_i, step_j):
    """f(x + a e_i + b e_j) - f(x + a e_i) - f(x + b e_j) + f(x): zero when i and j do not interact."""
    moved_i, moved_j, moved_both = rows.copy(), rows.copy(), rows.copy()
    moved_i[:, i] += step_i
    moved_j[:, j] += step_j
    moved_both[:, i] += step_i
    moved_both[:, j] += step_j
    return predict(moved_both) - predict(moved_i) - predict(moved_j) + predict(rows)


def _scale(values):
    return np.max(np.abs(values)) + 1.0


# --- resolving the parameter ---


def test_resolution_follows_scikit_learn():
    assert resolve_interaction_groups(None, 3) is None
    assert resolve_interaction_groups("no_interactions", 3) == [(0,), (1,), (2,)]
    assert resolve_interaction_groups("pairwise", 3) == [(0, 1), (0, 2), (1, 2)]
    # Features in no group form one group together, as in HistGradientBoosting.
    assert resolve_interaction_groups([[0, 1]], 4) == [(0, 1), (2, 3)]
    assert resolve_interaction_groups([{2}, (1, 0)], 3) == [(0, 1), (2,)]
    # One group of every feature is no constraint.
    assert resolve_interaction_groups([[0, 1, 2]], 3) is None
    assert resolve_interaction_groups([["b", "a"]], 3, np.array(["a", "b", "c"], dtype=object)) == [(0, 1), (2,)]


@pytest.mark.parametrize(
    "constraint, names, message",
    [
        ("none", None, "must be None, 'pairwise'"),
        (5, None, "list of feature groups"),
        (["ab"], None, "a group is a list"),
        ([[0], []], None, "empty group"),
        ([[0, 9]], None, r"indices in \[0, 3\]"),
        ([[0, -1]], None, r"indices in \[0, 3\]"),
        ([[0.5]], None, r"indices in \[0, 3\]"),
        ([["a"]], None, "no feature names"),
        ([["z"]], ["a", "b", "c", "d"], "not a column"),
    ],
)
def test_bad_constraints_get_clear_errors(constraint, names, message):
    with pytest.raises(ValueError, match=message):
        resolve_interaction_groups(constraint, 4, None if names is None else np.array(names, dtype=object))


def test_too_many_groups_are_refused_before_building_anything():
    with pytest.raises(ValueError, match=f"at most {MAX_INTERACTION_GROUPS}"):
        resolve_interaction_groups("pairwise", 50)


def test_a_hidden_layer_narrower_than_the_groups_is_refused_and_the_model_kept():
    model = _quiet_fit(KANRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0))
    before = model.predict(X)
    model.set_params(interaction_cst="no_interactions")
    with pytest.raises(ValueError, match="each hidden layer needs at least 4 nodes"):
        model.fit(X, Y)
    np.testing.assert_array_equal(model.predict(X), before)


def test_string_parameter_is_validated_before_fitting():
    with pytest.raises(ValueError, match="interaction_cst"):
        KANRegressor(interaction_cst="additive").fit(X, Y)


# --- the guarantee ---


@pytest.fixture(scope="module")
def constrained_models():
    groups = [[0], [1, 2]]  # feature 3 is in no group: it forms a group of its own
    regressor = _quiet_fit(KANRegressor(interaction_cst=groups, extrapolation="continue", random_state=0))
    ensemble = _quiet_fit(KANRegressor(interaction_cst="no_interactions", ensemble_size=3, random_state=0))
    deep = _quiet_fit(KANRegressor(hidden_layer_sizes=(6, 4), interaction_cst=groups, max_iter=30, random_state=0))
    classifier = _quiet_fit(KANClassifier(interaction_cst=groups, random_state=0), y=LABELS)
    return {
        "regressor": (regressor.predict, groups),
        "ensemble": (ensemble.predict, "no_interactions"),
        "deep": (deep.predict, groups),
        "classifier": (classifier.decision_function, groups),
    }


def _separated_pairs(constraint):
    groups = resolve_interaction_groups(constraint, 4)
    return [(i, j) for i, j in itertools.combinations(range(4), 2) if not any(i in g and j in g for g in groups)]


@pytest.mark.parametrize("kind", ["regressor", "ensemble", "deep", "classifier"])
@settings(max_examples=15, deadline=None)
@given(
    row=st.lists(st.floats(-3, 3), min_size=4, max_size=4),
    steps=st.tuples(
        st.one_of(st.floats(-2, 2), st.sampled_from([-1e6, 1e6])), st.one_of(st.floats(-2, 2), st.sampled_from([1e6]))
    ),
)
def test_features_of_different_groups_never_interact(constrained_models, kind, row, steps):
    predict, constraint = constrained_models[kind]
    rows = np.array([row])
    for i, j in _separated_pairs(constraint):
        difference = _mixed_difference(predict, rows, i, j, *steps)
        assert np.abs(difference).max() <= 1e-9 * _scale(predict(rows)), (i, j)


def test_features_in_one_group_do_interact(constrained_models):
    predict, _ = constrained_models["regressor"]
    difference = _mixed_difference(predict, X[:50], 1, 2, 0.5, 0.5)
    assert np.abs(difference).max() > 0.05  # x1 * x2 is learned


def test_the_structure_holds_through_grid_extension_pruning_warm_start_and_partial_fit():
    model = _quiet_fit(
        KANRegressor(
            interaction_cst="no_interactions",
            grid_extension=(10,),
            ensemble_size=1,
            early_stopping=False,
            max_iter=40,
            random_state=0,
        )
    )
    assert model.network_.grid_size == 10
    model.prune(0.05)
    model.set_params(warm_start=True, max_iter=5)
    _quiet_fit(model)
    for _ in range(2):
        model.partial_fit(X, Y)
    streamed = KANRegressor(interaction_cst="no_interactions", random_state=0)
    for _ in range(2):
        streamed.partial_fit(X, Y)
    for fitted in (model, streamed):
        for i, j in itertools.combinations(range(4), 2):
            assert np.abs(_mixed_difference(fitted.predict, X[:20], i, j, 0.7, -0.4)).max() <= 1e-9


def test_snapped_edges_stay_within_their_group():
    pytest.importorskip("sympy")
    model = _quiet_fit(
        KANRegressor(hidden_layer_sizes=(4,), interaction_cst="no_interactions", ensemble_size=1, random_state=0)
    )
    model.auto_symbolic(0.9, max_iter=5)
    for i, j in itertools.combinations(range(4), 2):
        assert np.abs(_mixed_difference(model.predict, X[:20], i, j, 0.3, 0.6)).max() <= 1e-9
    allowed = model.fitted_view_.allowed_edges(0)
    i, j = map(int, np.argwhere(~allowed)[0])
    with pytest.raises(ValueError, match="interaction_cst keeps"):
        model.fix_symbolic(0, i, j, "sin")


def test_additive_model_contributions_are_exact_shapley_values():
    X_small, y_small = X[:80, :3], Y[:80]
    model = _quiet_fit(
        KANRegressor(hidden_layer_sizes=(6,), interaction_cst="no_interactions", max_iter=40, random_state=0),
        X_small,
        y_small,
    )
    rows = X[200:203, :3]
    contributions = model.predict_contributions(rows)
    for row, values in zip(rows, contributions):
        expected = np.zeros(3)
        for i in range(3):
            others = [j for j in range(3) if j != i]
            for size in range(3):
                weight = math.factorial(size) * math.factorial(2 - size) / math.factorial(3)
                for subset in itertools.combinations(others, size):
                    with_i, without_i = X_small.copy(), X_small.copy()
                    with_i[:, [*subset, i]] = row[[*subset, i]]
                    without_i[:, list(subset)] = row[list(subset)]
                    expected[i] += weight * (model.predict(with_i).mean() - model.predict(without_i).mean())
        np.testing.assert_allclose(values[:-1], expected, rtol=1e-8, atol=1e-10)


def test_additive_model_starts_from_the_linear_model_when_guarded():
    model = _quiet_fit(KANRegressor(interaction_cst="no_interactions", init="linear", random_state=0))
    assert model.init_ == "linear"
    assert model.score(X, Y) > 0.5


def test_groups_survive_pickle_and_skops_and_tampering_is_refused():
    sio = pytest.importorskip("skops.io")
    model = _quiet_fit(KANRegressor(hidden_layer_sizes=(4,), interaction_cst=[[0, 1]], max_iter=10, random_state=0))
    for loaded in (pickle.loads(pickle.dumps(model)), sio.loads(sio.dumps(model), trusted=get_trusted_types())):
        assert loaded.fitted_view_.interaction_groups == [[0, 1], [2, 3]]
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    state = copy.deepcopy(model.__getstate__())
    state["network_"]["__skkan_network__"]["layers"][0]["mask"][:] = 1.0  # joins the groups
    with pytest.raises(UnsafeModelError, match="interaction groups"):
        KANRegressor.__new__(KANRegressor).__setstate__(state)


def test_names_work_with_dataframes():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["area", "rooms", "age", "floor"])
    model = _quiet_fit(KANRegressor(interaction_cst=[["rooms", "age"]], max_iter=10, random_state=0), frame, Y)
    assert model.fitted_view_.interaction_groups == [[0, 3], [1, 2]]
    assert torch.equal(model.network_.layers[0].mask != 0, model.network_.connections(0))
