"""Matplotlib views of a fitted KAN (needs the ``plot`` extra).

All functions return matplotlib objects and never call ``plt.show()``.
"""

import numpy as np
import torch

__all__ = ["plot_network", "plot_edge", "plot_features"]

_SPLINE_COLOR = "black"
_SYMBOLIC_COLOR = "tab:red"


def _import_pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("Plotting needs matplotlib; install it with `pip install skkan[plot]`.") from error
    return plt


def _edge_curve(estimator, layer_index, i, j, n_points, inputs=None):
    """Inputs (scaled) and values of one edge over the range its input takes on the sample."""
    network = estimator.network_
    if inputs is None:
        inputs, _ = estimator._layer_inputs()
    layer_input = inputs[layer_index]
    low, high = layer_input[:, i].min(), layer_input[:, i].max()
    grid = torch.linspace(float(low), float(high), n_points, dtype=layer_input.dtype)
    # Other inputs do not change edge (i, j): evaluate at the sample mean.
    points = layer_input.mean(dim=0, keepdim=True).repeat(n_points, 1)
    points[:, i] = grid
    with torch.no_grad():
        values = network.layers[layer_index].edge_activations(points)[:, i, j]
    return grid.to(torch.float64).numpy(), values.to(torch.float64).numpy()


def _edge_name(estimator, layer_index, i, j):
    symbolic = estimator.network_.layers[layer_index].symbolic
    if symbolic is not None and symbolic.mask[i, j] != 0:
        return symbolic.names[i][j]
    return None


def _node_label(estimator, layer_index, i):
    if layer_index == 0:
        return estimator._input_names()[i]
    return f"h{layer_index}.{i}"


def _active_edges(layer):
    active = layer.mask != 0
    if layer.symbolic is not None:
        active = active | (layer.symbolic.mask != 0)
    return [tuple(edge) for edge in active.nonzero().tolist()]


def _output_names(estimator, n_outputs):
    classes = getattr(estimator, "classes_", None)
    if classes is not None:
        return [f"logit {classes[1]}"] if n_outputs == 1 else [str(c) for c in classes]
    return ["y"] if n_outputs == 1 else [f"y{k}" for k in range(n_outputs)]


def plot_network(estimator, beta=3.0, ax=None, title=None):
    """Network diagram with every active edge's function drawn in a small box."""
    plt = _import_pyplot()
    network = estimator.network_
    scores = estimator.edge_importances()
    edges_per_layer = [_active_edges(layer) for layer in network.layers]
    inputs, _ = estimator._layer_inputs()
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
    for k, name in enumerate(estimator._input_names()):
        ax.text(node_x(widths[0], k), -0.12, name, ha="center", va="top", fontsize=9)

    for k, name in enumerate(_output_names(estimator, widths[-1])):
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
            name = _edge_name(estimator, level, i, j)
            color = _SYMBOLIC_COLOR if name else _SPLINE_COLOR
            ax.plot([node_x(layer.in_features, i), center], [level, y_low], color=color, alpha=alpha, lw=1)
            ax.plot([center, node_x(layer.out_features, j)], [y_high, level + 1], color=color, alpha=alpha, lw=1)
            inset = ax.inset_axes([center - box / 2, y_low, box, height], transform=ax.transData)
            x, values = _edge_curve(estimator, level, i, j, 100, inputs)
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


def _original_units(estimator, layer_index, i, x):
    if layer_index == 0:
        return x * estimator._input_scale[i] + estimator._input_mean[i]
    return x


def plot_edge(estimator, layer_index, i, j, ax=None, n_points=200):
    """One edge function; the x axis of a first-layer edge is in original feature units."""
    plt = _import_pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3))
    x, values = _edge_curve(estimator, layer_index, i, j, n_points)
    name = _edge_name(estimator, layer_index, i, j)
    ax.plot(_original_units(estimator, layer_index, i, x), values, color=_SYMBOLIC_COLOR if name else _SPLINE_COLOR)
    ax.set_xlabel(_node_label(estimator, layer_index, i))
    ax.set_ylabel(f"phi[{layer_index}]({i}->{j})")
    ax.set_title(f"layer {layer_index}, edge {i} -> {j}" + (f" ({name})" if name else ""))
    return ax


def _feature_indices(estimator, features):
    names = estimator._input_names()
    if features is None:
        importances = estimator.feature_importances_
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


def plot_features(estimator, features=None, n_cols=3, n_points=200):
    """Per-feature shape plots: the first-layer edges of each feature, in original units."""
    plt = _import_pyplot()
    indices = _feature_indices(estimator, features)
    n_cols = max(1, min(n_cols, len(indices)))
    n_rows = max(1, -(-len(indices) // n_cols))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(3.6 * n_cols, 2.8 * n_rows), squeeze=False)
    first = estimator.network_.layers[0]
    scores = estimator.edge_importances()[0]
    additive = len(estimator.network_.layers) == 1 and hasattr(estimator, "_target_scale")
    names = estimator._input_names()
    for ax, i in zip(axes.ravel(), indices):
        outgoing = [j for (k, j) in _active_edges(first) if k == i]
        top = max((scores[i, j] for j in outgoing), default=0.0) or 1.0
        for j in outgoing:
            x, values = _edge_curve(estimator, 0, i, j, n_points)
            if additive:
                values = values * estimator._target_scale[j]
            alpha = max(float(np.tanh(3.0 * scores[i, j] / top)), 0.1)
            label = f"-> {'output' if additive else 'h1'}.{j}"
            ax.plot(_original_units(estimator, 0, i, x), values, alpha=alpha, label=label)
        ax.set_xlabel(names[i])
        ax.set_ylabel("contribution to target" if additive else "edge value")
        if len(outgoing) > 1:
            ax.legend(fontsize=7)
    for ax in axes.ravel()[len(indices) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig
