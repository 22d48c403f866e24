"""Matplotlib views of single edges and features of a fitted KAN (needs the ``plot`` extra).

The network diagram is in :mod:`skkan.interpret._diagram`.

All functions return matplotlib objects and never call ``plt.show()``.
"""

import textwrap

import numpy as np
import torch

from ._common import fitted_view, import_pyplot
from ._importance import edge_importances, feature_importances

__all__ = ["plot_edge", "plot_features"]

_SPLINE_COLOR = "black"
_SYMBOLIC_COLOR = "tab:red"
# Characters per line of an axis label on the 3-inch axes of the default figures; longer labels wrap.
_LABEL_WIDTH = 32


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
    plt = import_pyplot()
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


def features_to_show(estimator, features):
    """The fitted view, the feature importance shares, and the positions of the ``features`` a plot shows.

    ``features`` are indices or names; None means every feature with a
    positive importance.
    """
    view = fitted_view(estimator)
    shares = feature_importances(estimator)
    return view, shares, _feature_indices(view, features, shares)


def _feature_indices(view, features, importances):
    """Positions of ``features`` (indices or names), or of every feature with a positive importance."""
    names = view.feature_names
    if features is None:
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


def panel_grid(n_panels, n_cols, *, sharey=False):
    """A figure of ``n_panels`` panels, ``n_cols`` to a row: the figure and its visible axes, in order."""
    plt = import_pyplot()
    n_cols = max(1, min(n_cols, n_panels))
    n_rows = max(1, -(-n_panels // n_cols))
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(3.6 * n_cols, 2.9 * n_rows), squeeze=False, sharey=sharey, layout="constrained"
    )
    for ax in axes.ravel()[n_panels:]:
        ax.set_visible(False)
    return fig, list(axes.ravel()[:n_panels])


def plot_features(estimator, features=None, *, n_cols=3, n_points=200):
    """Each feature's first-layer edge functions in original units, faded by importance.

    For a regressor without hidden layers these are exactly the additive
    contributions of the features to the prediction, in target units.
    Otherwise they are what the feature sends into each hidden node, which
    later edges may amplify or cancel: an edge is drawn as strongly as its
    importance (:func:`edge_importances`) against the strongest first-layer
    edge, and every panel's title gives the feature's share of
    :func:`feature_importances`. For each feature's effect on the
    prediction itself, use :func:`plot_feature_effects`.

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
    view, shares, indices = features_to_show(estimator, features)
    fig, axes = panel_grid(len(indices), n_cols)
    scores = edge_importances(estimator)[0]
    additive = view.n_layers == 1 and view.target_scale is not None
    # An additive regressor's edges are the target's terms in training units: the target scale makes them the
    # target's. With a log link they add up to log(predict), where the target scale is an offset, not a factor.
    log_link = view.target_link == "log"
    factors = view.target_scale if additive and not log_link else np.ones(view.widths[1])
    names = view.feature_names
    # Edges fade by their importance against the strongest first-layer edge of any feature: a large edge
    # that later layers cancel (its feature barely moves predictions) is drawn faint, not solid.
    top = float(scores.max()) or 1.0
    for ax, i in zip(axes, indices):
        outgoing = [j for (k, j) in view.active_edges(0) if k == i]
        ax.set_title(f"{textwrap.shorten(names[i], _LABEL_WIDTH)}: importance {shares[i]:.1%}", fontsize=9)
        for j in outgoing:
            # Weak edges fade, but stay visible enough to match their legend entry.
            alpha = max(float(np.tanh(3.0 * scores[i, j] / top)), 0.15)
            label = f"to {_node_name(view, 1, j)}"
            if view.is_categorical[i]:
                # One value per category (the lookup table), not a curve.
                values = view.category_values(i)[:-1, j] * factors[j]
                ax.plot([str(c) for c in view.categories(i)], values, "o", alpha=alpha, label=label)
                continue
            x, values = _edge_curve(view, 0, i, j, n_points)
            ax.plot(_original_units(view, 0, i, x), values * factors[j], alpha=alpha, label=label)
        ax.set_xlabel(textwrap.fill(names[i], _LABEL_WIDTH))
        ax.set_ylabel(
            ("contribution to log target" if log_link else "contribution to target") if additive else "edge value"
        )
        if outgoing and (len(outgoing) > 1 or view.widths[1] > 1):
            # Which node an edge feeds is only obvious when the next layer has a single node.
            ax.legend(fontsize=7)
    return fig
