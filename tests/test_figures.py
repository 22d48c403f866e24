"""Edge and feature plots: readable labels, all of them inside the saved figure."""

import io
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skkan import KANClassifier, KANRegressor
from skkan.interpret import plot_edge, plot_features

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
pd = pytest.importorskip("pandas")

LONG_NAME = "mean concave points of the tumour boundary"


def _fit(estimator, n_outputs=1):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(-1, 1, size=(60, 2)), columns=[LONG_NAME, "age"])
    y = np.sin(np.pi * X[LONG_NAME]) + X["age"] ** 2
    if isinstance(estimator, KANClassifier):
        y = np.digitize(y, [0.0, 0.7])
    elif n_outputs == 2:
        y = np.c_[y, X["age"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def _assert_inside_saved_figure(fig, texts):
    fig.savefig(io.BytesIO(), format="png")  # lays the figure out as saving does
    renderer = fig.canvas.get_renderer()
    for text in texts:
        assert text.get_text()
        box = text.get_window_extent(renderer)
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1, text.get_text()
        assert fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1, text.get_text()


def test_plot_edge_names_both_ends_and_keeps_labels_inside_the_figure():
    reg = _fit(KANRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0))
    ax = plot_edge(reg, 0, 0, 2)
    assert ax.get_xlabel().replace("\n", " ") == LONG_NAME
    assert ax.get_ylabel().replace("\n", " ") == f"{LONG_NAME} → hidden node 2"
    assert ax.get_title() == "layer 0, edge (0, 2)"
    _assert_inside_saved_figure(ax.figure, [ax.xaxis.label, ax.yaxis.label, ax.title])
    ax = plot_edge(reg, 1, 2, 0)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("hidden node 2", "hidden node 2 → y")


def test_plot_edge_labels_deep_networks_and_classifier_outputs():
    deep = _fit(KANRegressor(hidden_layer_sizes=(2, 2), max_iter=3, random_state=0))
    assert plot_edge(deep, 1, 1, 0).get_ylabel() == "hidden node 1 (layer 1) → hidden\nnode 0 (layer 2)"
    clf = _fit(KANClassifier(hidden_layer_sizes=(), max_iter=3, random_state=0))
    assert plot_edge(clf, 0, 1, 2).get_ylabel() == "age → logit(2)"


def test_plot_features_legend_names_the_target_nodes():
    reg = _fit(KANRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0))
    fig = plot_features(reg)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["to hidden node 0", "to hidden node 1", "to hidden node 2"]
    _assert_inside_saved_figure(fig, [a.xaxis.label for a in fig.axes] + [a.yaxis.label for a in fig.axes])
    additive = _fit(KANRegressor(hidden_layer_sizes=(), max_iter=3, random_state=0), n_outputs=2)
    fig = plot_features(additive)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["to y0", "to y1"]
    assert fig.axes[0].get_ylabel() == "contribution to target"
