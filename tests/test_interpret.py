"""Feature importances, edge importances, pruning and plots of fitted KANs."""

import copy
import pickle

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from sklearn.feature_selection import SelectFromModel
from sklearn.inspection import permutation_importance

from skkan import KANClassifier, KANRegressor


def _target(X):
    return np.exp(np.sin(np.pi * X[:, 0]) + X[:, 1] ** 2)


@pytest.fixture(scope="module")
def pruned_setup():
    """y = exp(sin(pi x0) + x1^2) with three irrelevant features, sparsity-trained then pruned."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(500, 5))
    y = _target(X)
    reg = KANRegressor(
        hidden_layer_sizes=(3,), early_stopping=False, lamb=1e-2, max_iter=20, random_state=0, dtype="float64"
    )
    reg.fit(X, y)
    before = copy.deepcopy(reg)
    reg.prune(3e-2)
    return X, y, before, reg


def test_feature_importances_rank_ignored_features_last(pruned_setup):
    X, y, before, _ = pruned_setup
    importances = before.feature_importances_
    assert importances.shape == (5,)
    assert np.isclose(importances.sum(), 1.0)
    assert set(np.argsort(importances)[-2:]) == {0, 1}
    assert importances[[2, 3, 4]].max() < 0.05


def test_edge_importances_sum_to_number_of_outputs(pruned_setup):
    _, _, before, _ = pruned_setup
    scores = before.edge_importances()
    assert [s.shape for s in scores] == [(5, 3), (3, 1)]
    for layer_scores in scores:
        assert np.isclose(layer_scores.sum(), 1.0)
        assert (layer_scores >= 0).all()


def test_prune_keeps_only_relevant_features_and_accuracy(pruned_setup):
    X, y, before, reg = pruned_setup
    importances = reg.feature_importances_
    assert set(np.flatnonzero(importances > 0)) == {0, 1}
    assert reg.n_params_ < before.n_params_
    summary = reg.pruning_summary_
    assert summary["n_params_after"] == reg.n_params_ and summary["n_edges_removed"] > 0
    # Pruning drops a few small edges of the relevant features too; the
    # outputs move by a few percent and further training recovers them.
    assert summary["relative_output_change"] < 0.15
    assert reg.score(X, y) > before.score(X, y) - 0.02


def test_prune_then_warm_start_keeps_structure(pruned_setup):
    X, y, _, reg = pruned_setup
    reg = copy.deepcopy(reg).set_params(warm_start=True, lamb=0.0, max_iter=10)
    n_params = reg.n_params_
    score_before = reg.score(X, y)
    reg.fit(X, y)
    assert reg.n_params_ == n_params
    assert set(np.flatnonzero(reg.feature_importances_ > 0)) == {0, 1}
    assert reg.score(X, y) >= max(score_before, 0.98)


def test_pruned_model_pickles(pruned_setup):
    X, _, _, reg = pruned_setup
    loaded = pickle.loads(pickle.dumps(reg))
    np.testing.assert_allclose(loaded.predict(X), reg.predict(X))
    np.testing.assert_allclose(loaded.feature_importances_, reg.feature_importances_)


def test_prune_with_huge_threshold_removes_everything_gracefully(pruned_setup):
    X, _, _, reg = pruned_setup
    reg = copy.deepcopy(reg).prune(threshold=2.0)
    prediction = reg.predict(X)
    assert np.all(np.isfinite(prediction))
    # Only the folded means are left: a constant prediction.
    assert np.ptp(prediction) < 1e-8
    with pytest.raises(ValueError, match="threshold"):
        reg.prune(threshold=-1.0)


def test_sklearn_tools_use_importances():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(200, 3))
    y = np.sin(np.pi * X[:, 0]) + 0.5 * X[:, 1]
    reg = KANRegressor(hidden_layer_sizes=(), early_stopping=False, max_iter=15, random_state=0, lamb=1e-3).fit(X, y)
    assert not hasattr(KANRegressor(), "feature_importances_")
    selector = SelectFromModel(reg, threshold=0.1, prefit=True)
    assert selector.get_support().tolist() == [True, True, False]
    result = permutation_importance(reg, X, y, n_repeats=2, random_state=0)
    assert np.argmin(result.importances_mean) == 2


def test_classifier_importances_and_prune():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 3))
    y = np.where(X[:, 0] + X[:, 1] ** 2 > 0.5, "a", "b")
    clf = KANClassifier(hidden_layer_sizes=(2,), early_stopping=False, max_iter=8, random_state=0, lamb=1e-3).fit(X, y)
    assert np.argmin(clf.feature_importances_) == 2
    accuracy = clf.score(X, y)
    clf.prune(0.05)
    assert clf.feature_importances_[2] == 0.0
    assert clf.score(X, y) > accuracy - 0.05


def test_plots_return_matplotlib_objects(pruned_setup):
    X, _, _, reg = pruned_setup
    fig = reg.plot(title="pruned")
    assert isinstance(fig, Figure)
    n_edges = sum(len(reg.fitted_view_.active_edges(layer)) for layer in range(2))
    # One card (a white patch with the edge's shape) per drawn edge.
    assert len(fig.axes[0].patches) == n_edges
    ax = reg.plot_edge(0, 0, reg.edge_importances()[0][0].argmax())
    assert ax.get_xlabel() == "x0"
    fig2 = reg.plot_features()
    assert isinstance(fig2, Figure) and sum(a.get_visible() for a in fig2.axes) == 2
    plt.close("all")


def test_edge_plot_is_in_original_feature_units():
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.uniform(10, 20, 150), rng.uniform(-1, 1, 150)])
    y = np.sqrt(X[:, 0]) + X[:, 1]
    reg = KANRegressor(hidden_layer_sizes=(), early_stopping=False, max_iter=10, random_state=0).fit(X, y)
    ax = reg.plot_edge(0, 0, 0)
    xdata = ax.lines[0].get_xdata()
    assert xdata.min() == pytest.approx(X[:, 0].min(), abs=1e-3)
    assert xdata.max() == pytest.approx(X[:, 0].max(), abs=1e-3)
    fig = reg.plot_features(["x1"])
    assert fig.axes[0].get_ylabel() == "contribution to target"
    with pytest.raises(ValueError, match="Edge"):
        reg.plot_edge(0, 5, 0)
    with pytest.raises(ValueError, match="Unknown feature"):
        reg.plot_features(["nope"])
    plt.close("all")


def test_attribution_scores_and_pruning_by_attribution(pruned_setup):
    X, y, before, _ = pruned_setup
    edge_scores, node_scores = before.attribution_scores()
    assert [s.shape for s in edge_scores] == [(5, 3), (3, 1)]
    assert [s.shape for s in node_scores] == [(5,), (3,), (1,)]
    assert node_scores[-1].tolist() == [1.0]
    importances = before.feature_importances_
    np.testing.assert_allclose(importances, node_scores[0] / node_scores[0].sum())
    # The used features outscore the ignored ones; a node threshold between
    # them prunes exactly the ignored features.
    relevant, ignored = node_scores[0][[0, 1]], node_scores[0][[2, 3, 4]]
    assert relevant.min() > ignored.max()
    threshold = float(np.sqrt(relevant.min() * ignored.max()))
    reg = copy.deepcopy(before).prune(0.0, node_threshold=threshold, by="attribution")
    assert set(np.flatnonzero(reg.feature_importances_ > 0)) == {0, 1}
    with pytest.raises(ValueError, match="by must be"):
        reg.prune(by="nope")


def test_attribution_follows_kan2_definition():
    import torch

    from skkan._engine import KANNetwork
    from skkan._engine.importance import attribution_scores, share_scores
    from skkan._engine.symbolic import SymbolicFit, snap_edge

    # out = 2 * x0 + x1 on independent inputs of equal spread.
    network = KANNetwork([2, 1], 3, 3, dtype=torch.float64)
    snap_edge(network.layers[0], 0, 0, SymbolicFit("x", 1.0, 1.0, 0.0, 2.0, 0.0, 1))
    snap_edge(network.layers[0], 1, 0, SymbolicFit("x", 1.0, 1.0, 0.0, 1.0, 0.0, 1))
    grid = torch.linspace(-1, 1, 41, dtype=torch.float64)
    x = torch.cartesian_prod(grid, grid)
    weights = torch.ones(x.shape[0], dtype=torch.float64)
    edges, nodes = attribution_scores(network, x, weights)
    np.testing.assert_allclose(edges[0][:, 0].numpy(), [2 / np.sqrt(5), 1 / np.sqrt(5)], rtol=1e-3)
    np.testing.assert_allclose(nodes[0].numpy(), edges[0][:, 0].numpy())
    edges, _ = share_scores(network, x, weights)
    np.testing.assert_allclose(edges[0][:, 0].numpy(), [2 / 3, 1 / 3], rtol=1e-6)


def test_diagram_is_legible_for_ten_inputs_and_marks_products_and_labels():
    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, size=(120, 10))
    y = X[:, 0] * X[:, 1] + np.sin(X[:, 2])
    reg = KANRegressor((2,), multiplication_nodes=1, early_stopping=False, max_iter=2, random_state=0)
    reg.fit(X, y)
    reg.fix_symbolic(1, 0, 0, "x")
    fig = reg.plot()
    assert fig.get_size_inches()[0] <= 8.0
    texts = [text.get_text() for text in fig.axes[0].texts]
    assert texts.count("×") == 1
    assert "x" in texts  # the snapped edge's label, as symbolic_edges_ names it
    assert reg.symbolic_edges_[0][3] == "x"
    # Cards never overlap.
    boxes = [patch.get_bbox() for patch in fig.axes[0].patches]
    for k, first in enumerate(boxes):
        for second in boxes[k + 1 :]:
            overlap_x = min(first.x1, second.x1) - max(first.x0, second.x0)
            overlap_y = min(first.y1, second.y1) - max(first.y0, second.y0)
            assert overlap_x <= 1e-9 or overlap_y <= 1e-9
    plt.close("all")
