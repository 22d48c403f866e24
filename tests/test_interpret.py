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
        hidden_layer_sizes=(3,), early_stopping=False, lamb=1e-2, max_iter=40, random_state=0, dtype="float64"
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
    clf = KANClassifier(hidden_layer_sizes=(2,), early_stopping=False, max_iter=20, random_state=0, lamb=1e-3).fit(X, y)
    assert np.argmin(clf.feature_importances_) == 2
    accuracy = clf.score(X, y)
    clf.prune(0.05)
    assert clf.feature_importances_[2] == 0.0
    assert clf.score(X, y) > accuracy - 0.05


def test_plots_return_matplotlib_objects(pruned_setup):
    X, _, _, reg = pruned_setup
    fig = reg.plot(title="pruned")
    assert isinstance(fig, Figure)
    n_edges = sum(int((layer.mask != 0).sum()) for layer in reg.network_.layers)
    # One inset per drawn edge, next to the main axes.
    assert len(fig.axes[0].child_axes) == n_edges
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
