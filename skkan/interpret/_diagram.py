"""The network diagram of a fitted KAN: nodes, every edge's learned shape, symbolic labels, product nodes.

Needs the ``plot`` extra (matplotlib). The shapes are drawn directly in the
diagram's coordinates, each on a white card so that edge lines never strike
through a shape or its label; their placement avoids overlaps, so the
diagram stays legible at documentation width for a 10-input network.
"""

import numpy as np

from ._common import fitted_view, import_pyplot, node_label
from ._importance import edge_importances

__all__ = ["plot_network"]

_SPLINE_COLOR = "black"
_SYMBOLIC_COLOR = "tab:red"
_PRODUCT_COLOR = "tab:blue"
# Documentation width, in inches: the figure never gets wider.
_MAX_WIDTH_INCHES = 8.0
_LAYER_HEIGHT_INCHES = 2.1
# A card's size: width in units of node spacing, height in units of a layer's height.
_CARD_WIDTH = 0.62
_CARD_HEIGHT = 0.2
# Positions tried along an edge (0: source, 1: target) for its card, best first.
_CARD_POSITIONS = (0.5, 0.38, 0.62, 0.28, 0.72, 0.45, 0.55, 0.2, 0.8)
_MIN_ALPHA = 0.06
# Height of a symbolic label above its card, in units of a layer's height.
_LABEL_HEIGHT = 0.09


def _node_positions(view, span):
    """x position of every node of every level, centred on a common axis of ``span`` units."""
    return [(span - 1) / 2 + np.arange(count) - (count - 1) / 2 for count in view.widths]


def _edge_shape(view, inputs, layer, i, j, n_points=60):
    """Values of edge ``(layer, i, j)`` over the range its input takes on the training sample."""
    column = inputs[layer][:, i].to(dtype=inputs[layer].dtype).numpy().astype(np.float64)
    grid = np.linspace(column.min(), column.max(), n_points)
    return grid, view.edge_function(layer, i, j)(grid)


def _overlaps(box, boxes):
    x0, y0, x1, y1 = box
    return any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in boxes)


def _place_card(start, end, placed, half_width, half_height, label_height):
    """Centre of a card (and its label above it) on ``start -> end`` that overlaps no placed card, or None."""
    for t in _CARD_POSITIONS:
        x, y = start[0] + t * (end[0] - start[0]), start[1] + t * (end[1] - start[1])
        box = (x - half_width, y - half_height, x + half_width, y + half_height + label_height)
        if not _overlaps(box, placed):
            placed.append(box)
            return x, y
    return None


def _draw_card(ax, center, grid, values, color, alpha, label, half_width, half_height):
    """A white card with the edge's shape, and the symbolic function's name above it."""
    from matplotlib.patches import FancyBboxPatch

    x, y = center
    ax.add_patch(
        FancyBboxPatch(
            (x - half_width, y - half_height),
            2 * half_width,
            2 * half_height,
            boxstyle="round,pad=0.0,rounding_size=0.03",
            facecolor="white",
            edgecolor=color,
            linewidth=0.6,
            alpha=max(alpha, 0.25),
            zorder=4,
        )
    )
    low, high = values.min(), values.max()
    scaled = (values - low) / (high - low) if high - low > 1e-12 else np.full_like(values, 0.5)
    xs = x - 0.85 * half_width + 1.7 * half_width * (grid - grid.min()) / max(np.ptp(grid), 1e-12)
    ys = y - 0.75 * half_height + 1.5 * half_height * scaled
    ax.plot(xs, ys, color=color, alpha=alpha, lw=1.4, zorder=5, solid_capstyle="round")
    if label:
        ax.text(
            x,
            y + half_height,
            label,
            ha="center",
            va="bottom",
            fontsize=8,
            color=color,
            zorder=6,
            bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.9},
        )


def _used_nodes(view):
    """Per level, whether each node still has an active edge (pruned nodes are drawn faded)."""
    used = [np.zeros(width, dtype=bool) for width in view.widths]
    for layer in range(view.n_layers):
        targets = view.subnode_nodes(layer)
        for i, j in view.active_edges(layer):
            used[layer][i] = used[layer + 1][targets[j]] = True
    used[-1][:] = True
    return used


def _draw_nodes(ax, view, positions):
    used = _used_nodes(view)
    for level, xs in enumerate(positions):
        for k, x in enumerate(xs):
            alpha = 1.0 if used[level][k] else 0.3
            if view.is_product_node(level, k):
                ax.text(
                    x,
                    level,
                    "×",
                    ha="center",
                    va="center",
                    fontsize=11,
                    fontweight="bold",
                    color="white",
                    zorder=8,
                    bbox={
                        "boxstyle": "square,pad=0.15",
                        "facecolor": _PRODUCT_COLOR,
                        "edgecolor": "none",
                        "alpha": alpha,
                    },
                )
            else:
                ax.scatter([x], [level], s=40, color="black", alpha=alpha, zorder=8)
    rotation = 30 if max(len(name) for name in view.feature_names) * view.widths[0] > 60 else 0
    for k, x in enumerate(positions[0]):
        ax.text(
            x,
            -0.12,
            node_label(view, 0, k),
            alpha=1.0 if used[0][k] else 0.4,
            ha="right" if rotation else "center",
            va="top",
            rotation=rotation,
            rotation_mode="anchor",
            fontsize=9,
        )
    for k, x in enumerate(positions[-1]):
        ax.text(x, view.n_layers + 0.1, node_label(view, view.n_layers, k), ha="center", va="bottom", fontsize=9)


def plot_network(estimator, *, beta=3.0, max_shapes=None, ax=None, title=None):
    """Draw a fitted KAN: its nodes and, on every active edge, the edge's learned shape.

    Levels are drawn bottom (input features) to top (outputs). Each edge is
    a line from its input node to the node it feeds, faded by its
    importance, with a card showing the edge function over the range its
    input takes on the training data. Snapped edges are red and labelled
    with their function (the name :func:`symbolic_formula` prints); product
    nodes are blue squares marked ``×``.

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
        A fitted estimator.
    beta : float, default=3.0
        Opacity of an edge is ``tanh(beta * score / max score of its
        layer)`` (see :func:`edge_importances`): weak edges fade out, pruned
        edges are not drawn.
    max_shapes : int, optional
        Most important edges per layer that get a card; the others are
        drawn as lines only. By default all edges that fit without
        overlapping (the least important ones are left as lines first).
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure (at most 8 inches wide) by default.
    title : str, optional

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    plt = import_pyplot()
    view = fitted_view(estimator)
    scores = edge_importances(estimator)
    inputs, _ = view.layer_inputs()
    span = max(max(view.widths), 2)
    positions = _node_positions(view, span)
    if ax is None:
        width = min(_MAX_WIDTH_INCHES, 0.75 * span + 1.5)
        fig, ax = plt.subplots(figsize=(width, _LAYER_HEIGHT_INCHES * view.n_layers + 0.9))
    else:
        fig = ax.figure
    ax.set_xlim(-0.7, span - 0.3)
    ax.set_ylim(-0.45, view.n_layers + 0.3)
    ax.axis("off")
    half_width = _CARD_WIDTH / 2 * min(1.0, 6.0 / span + 0.4)
    half_height = _CARD_HEIGHT / 2
    for layer in range(view.n_layers):
        layer_scores = scores[layer]
        top = layer_scores.max() if layer_scores.size and layer_scores.max() > 0 else 1.0
        symbolic = view.symbolic_edges(layer)
        targets = view.subnode_nodes(layer)
        edges = sorted(view.active_edges(layer), key=lambda edge: -layer_scores[edge])
        # Cards keep clear of the nodes (and their labels) of both levels.
        placed = [
            (x - 0.15, level - 0.08, x + 0.15, level + 0.08) for level in (layer, layer + 1) for x in positions[level]
        ]
        for rank, (i, j) in enumerate(edges):
            # Most important first: they get the best card positions.
            alpha = max(float(np.tanh(beta * layer_scores[i, j] / top)), _MIN_ALPHA)
            name = symbolic[(i, j)][0] if (i, j) in symbolic else None
            color = _SYMBOLIC_COLOR if name else _SPLINE_COLOR
            start = (positions[layer][i], layer)
            end = (positions[layer + 1][targets[j]], layer + 1)
            ax.plot(*zip(start, end), color=color, alpha=alpha, lw=1.0, zorder=2)
            if max_shapes is not None and rank >= max_shapes:
                continue
            # Where a full-size card does not fit, a smaller one may.
            for scale in (1.0, 0.7):
                size = (scale * half_width, scale * half_height)
                center = _place_card(start, end, placed, *size, _LABEL_HEIGHT if name else 0.0)
                if center is not None:
                    grid, values = _edge_shape(view, inputs, layer, i, j)
                    _draw_card(ax, center, grid, values, color, alpha, name, *size)
                    break
    _draw_nodes(ax, view, positions)
    if title:
        ax.set_title(title)
    return fig
