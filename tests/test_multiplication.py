"""Product nodes (KAN 2.0 multiplication nodes): engine, estimators, persistence, pruning and formulas."""

import math
import pickle

import numpy as np
import pytest
import sympy
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skkan import KANRegressor, UnsafeModelError
from skkan._engine import KANNetwork
from skkan._engine.serialization import network_from_data, network_to_data


def _network():
    return KANNetwork([2, 3, 1], 3, 3, generator=torch.Generator().manual_seed(0), multiplication_nodes=[0, 2, 0])


def test_product_nodes_multiply_their_two_subnodes():
    network = _network()
    layer = network.layers[0]
    assert layer.out_features == 1 + 2 * 2 and network.layers[1].in_features == 3
    x = torch.rand(7, 2) * 2 - 1
    subnodes = layer(x)
    nodes = network.layer_inputs(x)[1]
    torch.testing.assert_close(nodes[:, 0], subnodes[:, 0])
    torch.testing.assert_close(nodes[:, 1], subnodes[:, 1] * subnodes[:, 2])
    torch.testing.assert_close(nodes[:, 2], subnodes[:, 3] * subnodes[:, 4])
    output, inputs, edges = network.forward_with_edges(x)
    torch.testing.assert_close(output, network(x))
    torch.testing.assert_close(inputs[1], nodes)
    assert network.subnode_map(0).tolist() == [0, 1, 1, 2, 2]
    with pytest.raises(ValueError, match="multiplication_nodes"):
        KANNetwork([2, 3, 1], 3, 3, multiplication_nodes=[0, 1, 1])


def test_network_with_products_round_trips_as_plain_data():
    network = _network()
    data = network_to_data(network)
    assert data["multiplication_nodes"] == [0, 2, 0]
    restored = network_from_data(data)
    x = torch.rand(5, 2)
    torch.testing.assert_close(restored(x), network(x))
    # A file of an older layout (no product nodes) is refused, not guessed at.
    plain = network_to_data(KANNetwork([2, 3, 1], 3, 3))
    del plain["multiplication_nodes"]
    plain["format"] = 2
    with pytest.raises(UnsafeModelError, match="format 2"):
        network_from_data(plain)


def test_estimator_parameter_reaches_the_network_and_grid_search():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (60, 2))
    y = X[:, 0] * X[:, 1]
    reg = KANRegressor((1,), multiplication_nodes=1, max_iter=2, early_stopping=False, random_state=0).fit(X, y)
    assert reg.network_.widths == [2, 2, 1] and reg.network_.multiplication_nodes == [0, 1, 0]
    assert reg.fitted_view_.multiplication_nodes == [0, 1, 0]
    loaded = pickle.loads(pickle.dumps(reg))
    np.testing.assert_allclose(loaded.predict(X), reg.predict(X))
    assert clone(reg).get_params()["multiplication_nodes"] == 1
    search = GridSearchCV(
        KANRegressor((1,), max_iter=2, early_stopping=False, random_state=0), {"multiplication_nodes": [0, 1]}, cv=2
    ).fit(X, y)
    assert search.best_params_["multiplication_nodes"] in (0, 1)
    with pytest.raises(ValueError, match="hidden layer"):
        KANRegressor((), multiplication_nodes=1, max_iter=1).fit(X, y)


@pytest.mark.slow
@pytest.mark.parametrize("random_state", [0, 1])
@pytest.mark.parametrize("max_iter", [3, 10, 30])
def test_product_is_recovered_exactly(max_iter, random_state):
    # However long the spline network trained (3 steps leave it far from the
    # product), the re-fit after snapping must find the product, not a saddle
    # where its outer scale is zero.
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (100, 2))
    y = X[:, 0] * X[:, 1]
    reg = KANRegressor(
        (0,),
        multiplication_nodes=1,
        max_iter=max_iter,
        early_stopping=False,
        random_state=random_state,
        dtype="float64",
    )
    reg.fit(X, y)
    # One factor per feature (what pruning leaves after sparse training).
    with torch.no_grad():
        reg.network_.layers[0].mask[0, 1] = 0.0
        reg.network_.layers[0].mask[1, 0] = 0.0
    reg.auto_symbolic(-math.inf, library=["x"], X=X, y=y, max_iter=10)
    x0, x1 = sympy.symbols("x0 x1")
    assert reg.symbolic_formula()[0] == x0 * x1
    np.testing.assert_allclose(reg.predict(X), y, atol=1e-4)


def test_pruning_keeps_a_product_with_one_constant_factor():
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, (80, 2))
    reg = KANRegressor((0,), multiplication_nodes=1, max_iter=2, early_stopping=False, random_state=0).fit(X, X[:, 0])
    # Factor b loses all its edges: the product is bias_b * factor a, not a constant.
    with torch.no_grad():
        reg.network_.layers[0].mask[:, 1] = 0.0
    before = reg.predict(X)
    reg.prune(0.0)
    assert reg.network_.layers[0].mask[:, 0].any()
    np.testing.assert_allclose(reg.predict(X), before)
