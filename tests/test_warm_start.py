"""warm_start continues the fitted network: architecture changes are refused, training parameters may change."""

import copy
import functools
import pickle
import warnings

import numpy as np
import pytest

from skkan import KANClassifier, KANRegressor, get_trusted_types
from skkan._validation import WARM_START_FIXED_PARAMETERS

RNG = np.random.default_rng(0)
X = RNG.uniform(-1, 1, size=(40, 2))
Y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2
LABELS = np.where(X[:, 0] + X[:, 1] > 0, "up", "down")
PARAMS = {"hidden_layer_sizes": (2,), "grid_size": 3, "spline_order": 3, "max_iter": 3, "random_state": 0}


@functools.cache
def _fit_once(cls, extra):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls(**{**PARAMS, **dict(extra)}).fit(X, Y if cls is KANRegressor else LABELS)


def _fitted(cls=KANRegressor, **params):
    """A fresh copy of a model fitted once per configuration, set to warm_start."""
    return copy.deepcopy(_fit_once(cls, tuple(sorted(params.items())))).set_params(warm_start=True)


# Every parameter that shapes the network, with a changed value.
ARCHITECTURE_CHANGES = {
    "hidden_layer_sizes": [(3,), (2, 2), ()],
    "grid_size": [4],
    "grid_extension": [(6,)],
    "spline_order": [2],
    "ensemble_size": [2],
    "interaction_cst": ["no_interactions"],
    "monotonic_cst": [[1, 0]],
    "loss": ["absolute_error"],  # KANRegressor only
}


def test_every_fixed_parameter_is_tested():
    assert set(ARCHITECTURE_CHANGES) == set(WARM_START_FIXED_PARAMETERS)


@pytest.mark.parametrize(
    "cls, name, value",
    [
        (cls, name, value)
        for cls in (KANRegressor, KANClassifier)
        for name, values in ARCHITECTURE_CHANGES.items()
        for value in values
        if name in cls().get_params()
    ],
)
def test_changed_architecture_is_refused_and_the_model_kept(cls, name, value):
    est = _fitted(cls)
    before = est.predict(X)
    state = copy.copy(est.__dict__)
    est.set_params(**{name: value})
    with pytest.raises(ValueError, match=rf"architecture parameters changed: {name} \(fitted with .*, now "):
        est.fit(X, Y if cls is KANRegressor else LABELS)
    np.testing.assert_array_equal(est.predict(X), before)
    assert est.network_ is state["network_"] and est.n_iter_ == state["n_iter_"]


def test_all_changed_parameters_are_named_at_once():
    est = _fitted().set_params(hidden_layer_sizes=(4,), spline_order=1)
    with pytest.raises(ValueError, match=r"hidden_layer_sizes \(fitted with \(2,\), now \(4,\)\); spline_order"):
        est.fit(X, Y)


@pytest.mark.parametrize(
    "params",
    [
        {"learning_rate": 0.05, "optimizer": "adam"},
        {"max_iter": 2},
        {"lamb": 1e-3, "lamb_l1": 0.5, "lamb_entropy": 1.0},
        {"dtype": "float64"},
        {"tol": 0.0, "random_state": 3, "batch_size": 8},
        {"early_stopping": True, "validation_fraction": 0.25},
        {"hidden_layer_sizes": 2},  # the same architecture, spelled differently
    ],
)
def test_training_parameters_may_change(params):
    est = _fitted()
    network, n_iter = est.network_, est.n_iter_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.set_params(**params).fit(X, Y)
    assert est.network_ is not network and est.n_iter_ > n_iter
    assert est.network_.widths == [2, 2, 1]


def test_grid_extension_stages_are_not_repeated_but_may_not_change():
    est = _fitted(grid_extension=(6,))
    assert est.network_.grid_size == 6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, Y)
    assert est.network_.grid_size == 6
    with pytest.raises(ValueError, match=r"grid_extension \(fitted with \(6,\), now \(6, 12\)\)"):
        est.set_params(grid_extension=(6, 12)).fit(X, Y)


def test_warm_start_false_rebuilds_any_architecture():
    est = _fitted().set_params(warm_start=False, hidden_layer_sizes=(3,), spline_order=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, Y)
    assert est.network_.widths == [2, 3, 1] and est.fitted_view_.spline_order == 2


def test_rules_survive_pickle_and_skops():
    sio = pytest.importorskip("skops.io")
    est = _fitted()
    for loaded in (pickle.loads(pickle.dumps(est)), sio.loads(sio.dumps(est), trusted=get_trusted_types())):
        with pytest.raises(ValueError, match="grid_size"):
            loaded.set_params(grid_size=7).fit(X, Y)


def test_a_model_saved_without_the_architecture_record_is_checked_against_its_network():
    est = _fitted()
    state = est.__getstate__()
    del state["_architecture"]
    legacy = KANRegressor.__new__(KANRegressor)
    legacy.__setstate__(copy.deepcopy(state))
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        copy.deepcopy(legacy).set_params(hidden_layer_sizes=(5,)).fit(X, Y)
    with pytest.raises(ValueError, match="spline_order"):
        copy.deepcopy(legacy).set_params(spline_order=1).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        legacy.fit(X, Y)
    assert legacy._architecture["hidden_layer_sizes"] == (2,)


def test_the_record_is_plain_data():
    # Plain tuples and ints, so skops needs no extra trusted type.
    assert _fitted()._architecture == {
        "hidden_layer_sizes": (2,),
        "grid_size": 3,
        "grid_extension": "auto",
        "spline_order": 3,
        "ensemble_size": 1,
        "interaction_cst": None,
        "monotonic_cst": None,
        "loss": "squared_error",
    }
