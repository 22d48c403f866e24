"""Pruning a KAN by edge and node importance (see :mod:`~skkan._engine.importance`)."""

import torch

from .importance import edge_spreads, propagate_scores

__all__ = ["prune_network"]


def _edge_masks(layer):
    masks = [layer.mask]
    if layer.symbolic is not None:
        masks.append(layer.symbolic.mask)
    return masks


def _active(layer):
    active = layer.mask != 0
    if layer.symbolic is not None:
        active = active | (layer.symbolic.mask != 0)
    return active


def _any_per_node(values, mapping, n_nodes):
    """``values`` over subnodes, reduced with ``any`` per node."""
    counts = torch.zeros(n_nodes, dtype=torch.long).index_add_(0, mapping, values.long())
    return counts > 0


def prune_network(network, x, weights, threshold, node_threshold=None, method="share"):
    """Remove weak edges and nodes in place.

    An edge is removed when its score is below ``threshold``; a node (input
    or hidden) when its score is below ``node_threshold``, and a hidden node
    also when it has no incoming or no outgoing edge left. A removed edge's
    mean over the data is added to the bias of its target node, so the
    prediction only loses the edge's variation. Repeats until nothing changes.

    Parameters
    ----------
    network : KANNetwork
    x : torch.Tensor of shape (n_samples, n_features)
        Scaled inputs on which the scores are computed.
    weights : torch.Tensor of shape (n_samples,)
    threshold : float
        Edge score threshold (scores of a layer sum to the number of outputs).
    node_threshold : float, optional
        Node score threshold; ``threshold`` by default.
    method : {"share", "attribution"}
        How scores are computed (see :mod:`~skkan._engine.importance`).

    Returns
    -------
    n_removed : int
        Number of edges removed.
    """
    node_threshold = threshold if node_threshold is None else node_threshold
    n_removed = 0
    for _ in range(4 * len(network.layers) + 4):
        spreads, means, subnode_spreads = edge_spreads(network, x, weights)
        edge_scores, node_scores = propagate_scores(network, spreads, subnode_spreads, method)
        changed = False
        for index, layer in enumerate(network.layers):
            active = _active(layer)
            remove = active & (edge_scores[index] < threshold)
            remove |= active & (node_scores[index] < node_threshold)[:, None]
            if index > 0:
                # A hidden node without incoming edges only feeds a constant
                # (a product node: when neither factor has any).
                fed_subnodes = _active(network.layers[index - 1]).any(dim=0)
                fed = _any_per_node(fed_subnodes, network.subnode_map(index - 1), layer.in_features)
                remove |= active & ~fed[:, None]
            if index + 1 < len(network.layers):
                # Edges into a node nobody reads are dead weight.
                read = _active(network.layers[index + 1]).any(dim=1)
                remove |= active & ~read[network.subnode_map(index)][None, :]
            if remove.any():
                with torch.no_grad():
                    layer.bias += (means[index] * remove).sum(dim=0)
                    for mask in _edge_masks(layer):
                        mask[remove] = 0.0
                n_removed += int(remove.sum())
                changed = True
                # Later layers' means change once this layer changes.
                break
        if not changed:
            break
    return n_removed
