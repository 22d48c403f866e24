"""Matplotlib views of single edges and features of a fitted KAN (needs the ``plot`` extra).

The network diagram is in :mod:`skkan.interpret._diagram`.

All functions return matplotlib objects and never call ``plt.show()``.
"""

import numpy as np
import torch

from ._common import fitted_view
from ._importance import edge_importances, feature_importances

__all__ = ["plot_edge", "plot_features"]

_SPLINE_COLOR = "black"
_SYMBOLIC_COLOR = "tab:red"


def _import_pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("Plotting needs matplotlib; install it with `pip install skkan[plot]`.") from error
    return plt


def _edge_curve(view, layer_index, i, j, n_points, inputs=None):
    """Inputs (scaled) and values of one edge over the range its input takes on the sample."""
    network = view.network
    if inputs is None:
        inputs, _ = view.layer_inputs()
    layer_input = inputs[layer_index]
    low, high = layer_input[:, i].min(), layer_input[:, i].max()
    grid = torch.linspace(float(low), float(high), n_points, dtype=layer_input.dtype)
    # Other inputs do not change edge (i, j): evaluate at the sample mean.
    points = layer_input.mean(dim=0, keepdim=True).repeat(n_points, 1)
    points[:, i] = grid
    with torch.no_grad():
        values = network.layers[layer_index].edge_activations(points)[:, i, j]
    return grid.to(torch.float64).numpy(), values.to(torch.float64).numpy()


def _edge_name(view, layer_index, i, j):
    entry = view.symbolic_edges(layer_index).get((i, j))
    return None if entry is None else entry[0]


def _node_label(view, layer_index, i):
    if layer_index == 0:
        return view.feature_names[i]
    return f"h{layer_index}.{i}"


def _original_units(view, layer_index, i, x):
    if layer_index == 0:
        return view.to_original_units(i, x)
    return x


def plot_edge(estimator, layer_index, i, j, *, ax=None, n_points=200):
    """Plot one edge function; a first-layer edge is drawn against its feature in original units.

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
        A fitted estimator.
    layer_index, i, j : int
        The edge from node ``i`` of layer ``layer_index`` to node ``j`` of
        the next layer.
    ax : matplotlib Axes, optional
    n_points : int, default=200

    Returns
    -------
    ax : matplotlib Axes
    """
    plt = _import_pyplot()
    view = fitted_view(estimator)
    view.check_edge(layer_index, i, j)
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3))
    x, values = _edge_curve(view, layer_index, i, j, n_points)
    name = _edge_name(view, layer_index, i, j)
    ax.plot(_original_units(view, layer_index, i, x), values, color=_SYMBOLIC_COLOR if name else _SPLINE_COLOR)
    ax.set_xlabel(_node_label(view, layer_index, i))
    ax.set_ylabel(f"phi[{layer_index}]({i}->{j})")
    ax.set_title(f"layer {layer_index}, edge {i} -> {j}" + (f" ({name})" if name else ""))
    return ax


def _feature_indices(estimator, view, features):
    names = view.feature_names
    if features is None:
        importances = feature_importances(estimator)
        return [k for k in range(len(names)) if importances[k] > 0]
    indices = []
    for feature in features:
        if isinstance(feature, str):
            if feature not in names:
                raise ValueError(f"Unknown feature {feature!r}; known features are {names}.")
            indices.append(names.index(feature))
        else:
            if not 0 <= int(feature) < len(names):
                raise ValueError(f"Feature index {feature} is out of range for {len(names)} features.")
            indices.append(int(feature))
    return indices


def plot_features(estimator, features=None, *, n_cols=3, n_points=200):
    """Shape plots: each feature's first-layer edge functions in original units.

    For a regressor without hidden layers these are exactly the additive
    contributions of the features to the prediction, in target units.

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
        A fitted estimator.
    features : list of int or str, optional
        Features to show (indices or names); all used features by default.
    n_cols : int, default=3
        Subplots per row.
    n_points : int, default=200
        Points per curve.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    plt = _import_pyplot()
    view = fitted_view(estimator)
    indices = _feature_indices(estimator, view, features)
    n_cols = max(1, min(n_cols, len(indices)))
    n_rows = max(1, -(-len(indices) // n_cols))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(3.6 * n_cols, 2.8 * n_rows), squeeze=False)
    scores = edge_importances(estimator)[0]
    additive = view.n_layers == 1 and view.target_scale is not None
    names = view.feature_names
    for ax, i in zip(axes.ravel(), indices):
        outgoing = [j for (k, j) in view.active_edges(0) if k == i]
        top = max((scores[i, j] for j in outgoing), default=0.0) or 1.0
        for j in outgoing:
            x, values = _edge_curve(view, 0, i, j, n_points)
            if additive:
                values = values * view.target_scale[j]
            alpha = max(float(np.tanh(3.0 * scores[i, j] / top)), 0.1)
            label = f"-> {'output' if additive else 'h1'}.{j}"
            ax.plot(_original_units(view, 0, i, x), values, alpha=alpha, label=label)
        ax.set_xlabel(names[i])
        ax.set_ylabel("contribution to target" if additive else "edge value")
        if len(outgoing) > 1:
            ax.legend(fontsize=7)
    for ax in axes.ravel()[len(indices) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig
