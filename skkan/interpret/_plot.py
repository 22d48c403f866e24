"""Matplotlib views of a fitted KAN (needs the ``plot`` extra).

All functions return matplotlib objects and never call ``plt.show()``.
"""

import textwrap

import numpy as np
import torch

from ._common import fitted_view
from ._importance import edge_importances, feature_importances

__all__ = ["plot_network", "plot_edge", "plot_features"]

_SPLINE_COLOR = "black"
_SYMBOLIC_COLOR = "tab:red"
# Characters per line of an axis label on the 3-inch axes of the default figures; longer labels wrap.
_LABEL_WIDTH = 32


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
    # Missing inputs (NaN) are drawn as a marker by plot_edge, not on the curve.
    observed = layer_input[:, i][~torch.isnan(layer_input[:, i])]
    low, high = (observed.min(), observed.max()) if observed.numel() else (0.0, 0.0)
    grid = torch.linspace(float(low), float(high), n_points, dtype=layer_input.dtype)
    # Other inputs do not change edge (i, j): evaluate at the sample mean.
    points = torch.nanmean(layer_input, dim=0, keepdim=True).nan_to_num().repeat(n_points, 1)
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


def plot_network(estimator, *, beta=3.0, ax=None, title=None):
    """Draw a fitted KAN with each active edge's learned function on it.

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
        A fitted estimator.
    beta : float, default=3.0
        Opacity of an edge is ``tanh(beta * score / max score of its
        layer)``: weak edges fade out, pruned edges are not drawn.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure by default.
    title : str, optional

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    plt = _import_pyplot()
    view = fitted_view(estimator)
    network = view.network
    scores = edge_importances(estimator)
    edges_per_layer = [view.active_edges(index) for index in range(view.n_layers)]
    inputs, _ = view.layer_inputs()
    widths = network.widths
    span = max(max(widths), max((len(e) for e in edges_per_layer), default=1), 2)
    if ax is None:
        fig, ax = plt.subplots(figsize=(min(1.1 * span + 1.5, 20), 2.6 * len(network.layers) + 0.6))
    else:
        fig = ax.figure
    ax.set_xlim(-0.6, span - 0.4)
    ax.set_ylim(-0.35, len(network.layers) + 0.35)
    ax.axis("off")

    def node_x(count, k):
        return (span - 1) / 2 + (k - (count - 1) / 2) * (span / max(count, 1))

    for level, count in enumerate(widths):
        xs = [node_x(count, k) for k in range(count)]
        ax.scatter(xs, [level] * count, s=60, color="black", zorder=3)
    for k, name in enumerate(view.feature_names):
        ax.text(node_x(widths[0], k), -0.12, name, ha="center", va="top", fontsize=9)

    for k, name in enumerate(view.output_names):
        ax.text(node_x(widths[-1], k), len(network.layers) + 0.1, name, ha="center", va="bottom", fontsize=9)

    box = 0.8 * min(1.0, span / max((len(e) for e in edges_per_layer), default=1))
    height = 0.42
    for level, (layer, edges) in enumerate(zip(network.layers, edges_per_layer)):
        layer_scores = scores[level]
        top = layer_scores.max() if layer_scores.size and layer_scores.max() > 0 else 1.0
        for position, (i, j) in enumerate(edges):
            alpha = float(np.tanh(beta * layer_scores[i, j] / top))
            alpha = max(alpha, 0.05)
            center = node_x(len(edges), position)
            y_low, y_high = level + 0.5 - height / 2, level + 0.5 + height / 2
            name = _edge_name(view, level, i, j)
            color = _SYMBOLIC_COLOR if name else _SPLINE_COLOR
            ax.plot([node_x(layer.in_features, i), center], [level, y_low], color=color, alpha=alpha, lw=1)
            ax.plot([center, node_x(layer.out_features, j)], [y_high, level + 1], color=color, alpha=alpha, lw=1)
            inset = ax.inset_axes([center - box / 2, y_low, box, height], transform=ax.transData)
            x, values = _edge_curve(view, level, i, j, 100, inputs)
            inset.plot(x, values, color=color, alpha=alpha, lw=1.5)
            inset.set_xticks([])
            inset.set_yticks([])
            for spine in inset.spines.values():
                spine.set_alpha(alpha)
            inset.patch.set_alpha(0.0)
            if name:
                inset.set_title(name, fontsize=7, color=color, alpha=alpha, pad=1)
    if title:
        ax.set_title(title)
    return fig


def _original_units(view, layer_index, i, x):
    if layer_index == 0:
        return view.to_original_units(i, x)
    return x


def _node_name(view, level, k):
    """Readable name of node ``k`` at ``level`` (0: the inputs, ``n_layers``: the outputs)."""
    if level == 0:
        return view.feature_names[k]
    if level == view.n_layers:
        return view.output_names[k]
    # Indices stay 0-based, as in plot_edge's arguments and edge_importances().
    return f"hidden node {k}" if view.n_layers == 2 else f"hidden node {k} (layer {level})"


def _edge_label(view, layer_index, i, j):
    """``"input → node"`` label of an edge, wrapped to fit the y axis of a small figure."""
    label = f"{_node_name(view, layer_index, i)} → {_node_name(view, layer_index + 1, j)}"
    return textwrap.fill(label, _LABEL_WIDTH)


def plot_edge(estimator, layer_index, i, j, *, ax=None, n_points=200):
    """Plot one edge function; a first-layer edge is drawn against its feature in original units.

    The y axis is the value the edge adds to its target node; it is labelled
    with the names of both ends (feature names, ``hidden node k``, or the
    output), the title gives the edge's indices (as in
    :func:`edge_importances`) and its symbolic function, if any.

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
        A fitted estimator.
    layer_index, i, j : int
        The edge from node ``i`` of layer ``layer_index`` to node ``j`` of
        the next layer.
    ax : matplotlib Axes, optional
        Axes to draw on; by default a new 4 x 3 inch figure whose layout
        keeps every label inside it when saved.
    n_points : int, default=200

    Returns
    -------
    ax : matplotlib Axes
    """
    plt = _import_pyplot()
    view = fitted_view(estimator)
    view.check_edge(layer_index, i, j)
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3), layout="constrained")
    name = _edge_name(view, layer_index, i, j)
    if layer_index == 0 and view.is_categorical[i]:
        # A lookup-table edge: one value per category, the last for unknown ones.
        labels = [str(c) for c in view.categories(i)] + ["(unknown)"]
        ax.plot(labels, view.category_values(i)[:, j], "o", color=_SPLINE_COLOR)
    else:
        x, values = _edge_curve(view, layer_index, i, j, n_points)
        x = _original_units(view, layer_index, i, x)
        ax.plot(x, values, color=_SYMBOLIC_COLOR if name else _SPLINE_COLOR)
    if layer_index == 0:
        # The edge's value for a missing input, drawn as a marker left of the curve.
        position = "(missing)" if view.is_categorical[i] else x.min() - 0.05 * (np.ptp(x) or 1.0)
        ax.plot([position], [view.missing_values[i, j]], "x", color="black", label="missing (NaN)")
        ax.legend(loc="best", fontsize="small")
    ax.set_xlabel(textwrap.fill(_node_name(view, layer_index, i), _LABEL_WIDTH))
    ax.set_ylabel(_edge_label(view, layer_index, i, j))
    ax.set_title(f"layer {layer_index}, edge ({i}, {j})" + (f": {name}" if name else ""), fontsize=10)
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
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(3.6 * n_cols, 2.8 * n_rows), squeeze=False, layout="constrained")
    scores = edge_importances(estimator)[0]
    additive = view.n_layers == 1 and view.target_scale is not None
    names = view.feature_names
    for ax, i in zip(axes.ravel(), indices):
        outgoing = [j for (k, j) in view.active_edges(0) if k == i]
        top = max((scores[i, j] for j in outgoing), default=0.0) or 1.0
        for j in outgoing:
            # Weak edges fade, but stay visible enough to match their legend entry.
            alpha = max(float(np.tanh(3.0 * scores[i, j] / top)), 0.25)
            label = f"to {_node_name(view, 1, j)}"
            if view.is_categorical[i]:
                # One value per category (the lookup table), not a curve.
                values = view.category_values(i)[:-1, j] * (view.target_scale[j] if additive else 1.0)
                ax.plot([str(c) for c in view.categories(i)], values, "o", alpha=alpha, label=label)
                continue
            x, values = _edge_curve(view, 0, i, j, n_points)
            if additive:
                values = values * view.target_scale[j]
            ax.plot(_original_units(view, 0, i, x), values, alpha=alpha, label=label)
        ax.set_xlabel(textwrap.fill(names[i], _LABEL_WIDTH))
        ax.set_ylabel("contribution to target" if additive else "edge value")
        if outgoing and (len(outgoing) > 1 or view.widths[1] > 1):
            # Which node an edge feeds is only obvious when the next layer has a single node.
            ax.legend(fontsize=7)
    for ax in axes.ravel()[len(indices) :]:
        ax.set_visible(False)
    return fig
