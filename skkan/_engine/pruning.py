"""Edge and node importances of a KAN, and pruning by importance.

Importance definition
---------------------
Let ``phi_lij`` be the function on the edge from node ``i`` of layer ``l``
to node ``j`` of layer ``l + 1``, and ``m_lij`` its *spread*: the weighted
standard deviation of ``phi_lij`` over a sample of the data (an edge that is
constant on the data has no effect on the output beyond a shift of the
bias). Every output node gets score 1. Going backwards, a node's score is
shared among its incoming edges in proportion to their spreads::

    edge_score_lij = node_score_(l+1)j * m_lij / sum_i' m_li'j
    node_score_li  = sum_j edge_score_lij

so each layer's scores sum to the number of outputs, and a node's score is
the share of the outputs' variation that flows through it. The scores of the
input nodes, divided by their sum, are the feature importances. A feature
the target ignores gets (after sparsity-regularised training) edges of small
spread, hence a small share.
"""

import torch

__all__ = ["edge_spreads", "importance_scores", "prune_network"]

_TINY = 1e-12


def _weighted_mean(values, weights):
    return torch.einsum("b,b...->...", weights, values)


def edge_spreads(network, x, weights):
    """Spread and mean of every edge, per layer.

    Parameters
    ----------
    network : KANNetwork
    x : torch.Tensor of shape (n_samples, n_features)
        Scaled network inputs.
    weights : torch.Tensor of shape (n_samples,)
        Non-negative sample weights.

    Returns
    -------
    spreads, means : list of torch.Tensor of shape (in, out)
        Weighted standard deviation and mean of each edge's activation.
    """
    weights = weights / weights.sum()
    with torch.no_grad():
        _, _, edges = network.forward_with_edges(x)
    spreads, means = [], []
    for activations in edges:
        mean = _weighted_mean(activations, weights)
        variance = _weighted_mean((activations - mean).square(), weights)
        spreads.append(variance.clamp(min=0).sqrt())
        means.append(mean)
    return spreads, means


def importance_scores(spreads):
    """Propagate output scores back through the edge spreads.

    Parameters
    ----------
    spreads : list of torch.Tensor of shape (in, out)
        Edge spreads per layer, from :func:`edge_spreads`.

    Returns
    -------
    edge_scores : list of torch.Tensor of shape (in, out)
    node_scores : list of torch.Tensor
        ``node_scores[l]`` has one entry per node of layer ``l`` (inputs
        first, outputs last).
    """
    node = torch.ones(spreads[-1].shape[1], dtype=spreads[-1].dtype)
    node_scores, edge_scores = [node], []
    for spread in reversed(spreads):
        share = spread / (spread.sum(dim=0, keepdim=True) + _TINY)
        edge = share * node[None, :]
        node = edge.sum(dim=1)
        edge_scores.insert(0, edge)
        node_scores.insert(0, node)
    return edge_scores, node_scores


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


def prune_network(network, x, weights, threshold, node_threshold=None):
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

    Returns
    -------
    n_removed : int
        Number of edges removed.
    """
    node_threshold = threshold if node_threshold is None else node_threshold
    n_removed = 0
    for _ in range(4 * len(network.layers) + 4):
        spreads, means = edge_spreads(network, x, weights)
        edge_scores, node_scores = importance_scores(spreads)
        changed = False
        for index, layer in enumerate(network.layers):
            active = _active(layer)
            remove = active & (edge_scores[index] < threshold)
            remove |= active & (node_scores[index] < node_threshold)[:, None]
            if index > 0:
                # A hidden node without incoming edges only feeds a constant.
                fed = _active(network.layers[index - 1]).any(dim=0)
                remove |= active & ~fed[:, None]
            if index + 1 < len(network.layers):
                # Edges into a node nobody reads are dead weight.
                read = _active(network.layers[index + 1]).any(dim=1)
                remove |= active & ~read[None, :]
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
