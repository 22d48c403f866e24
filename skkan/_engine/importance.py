"""Edge and node importance scores of a KAN, propagated back from the outputs.

Both scores start from every output node (score 1) and walk back layer by
layer. Let ``phi_lij`` be the function on the edge from node ``i`` of level
``l`` to output (subnode) ``j`` of layer ``l``, ``sigma_lij`` its *spread*
(weighted standard deviation over a sample of the data) and ``s_lj`` the
spread of the subnode ``j`` itself (the sum of its edges plus bias). A
subnode inherits the score of the node it feeds; a product node's score goes
to both its factors.

``"share"`` (the default of pruning)
    A subnode's score is shared among its incoming edges in proportion to
    their spreads, and a product node's score is halved between its two
    factors, so each layer's scores sum to the number of outputs::

        edge_lij = node_(l+1),j * sigma_lij / sum_i' sigma_li'j

``"attribution"`` (KAN 2.0, Liu et al. 2024)
    The edge carries the share of its subnode's spread that its own spread
    accounts for, times the subnode's score; a product node gives its full
    score to each factor::

        edge_lij = node_(l+1),j * sigma_lij / s_lj

    Edges that cancel each other (their spreads sum to more than the
    subnode's) are all scored high, as they should be: removing one of them
    changes the output. Scores are not normalised.

In both, ``node_li = sum_j edge_lij``; the input nodes' scores are the
features' importances.
"""

import torch

__all__ = [
    "SCORE_METHODS",
    "attribution_scores",
    "edge_spreads",
    "importance_scores",
    "propagate_scores",
    "share_scores",
]

_TINY = 1e-12
# Added to a subnode's spread (standardised units) before dividing by it, as in KAN 2.0.
_SPREAD_FLOOR = 1e-4

#: Names of the scoring methods (see the module docstring).
SCORE_METHODS = ("share", "attribution")


def _weighted_mean(values, weights):
    return torch.einsum("b,b...->...", weights, values)


def _spread(values, weights):
    mean = _weighted_mean(values, weights)
    return _weighted_mean((values - mean).square(), weights).clamp(min=0).sqrt(), mean


def edge_spreads(network, x, weights):
    """Spread and mean of every edge, and spread of every subnode, per layer.

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
    subnode_spreads : list of torch.Tensor of shape (out,)
        Weighted standard deviation of each layer output.
    """
    weights = weights / weights.sum()
    spreads, means, subnode_spreads = [], [], []
    with torch.no_grad():
        _, _, edges = network.forward_with_edges(x)
        for layer, activations in zip(network.layers, edges):
            spread, mean = _spread(activations, weights)
            spreads.append(spread)
            means.append(mean)
            subnode_spreads.append(_spread(activations.sum(dim=1) + layer.bias, weights)[0])
    return spreads, means, subnode_spreads


def propagate_scores(network, spreads, subnode_spreads, method):
    """Scores from the spreads of :func:`edge_spreads`; see :func:`importance_scores`."""
    node = torch.ones(network.widths[-1], dtype=spreads[-1].dtype)
    node_scores, edge_scores = [node], []
    for index in reversed(range(len(spreads))):
        mapping = network.subnode_map(index)
        subnode = node[mapping]
        spread = spreads[index]
        if method == "share":
            # Each factor of a product carries half of its score.
            subnode = subnode / torch.bincount(mapping).to(subnode.dtype)[mapping]
            share = spread / (spread.sum(dim=0, keepdim=True) + _TINY)
        else:
            share = spread / (subnode_spreads[index] + _SPREAD_FLOOR)[None, :]
        edge = share * subnode[None, :]
        node = edge.sum(dim=1)
        edge_scores.insert(0, edge)
        node_scores.insert(0, node)
    return edge_scores, node_scores


def importance_scores(network, x, weights, method="share"):
    """Edge and node scores of ``network`` on the sample ``x`` (see the module docstring).

    Parameters
    ----------
    network : KANNetwork
    x : torch.Tensor of shape (n_samples, n_features)
    weights : torch.Tensor of shape (n_samples,)
    method : {"share", "attribution"}

    Returns
    -------
    edge_scores : list of torch.Tensor of shape (in, out)
        Per layer; ``out`` counts the layer's outputs (subnodes).
    node_scores : list of torch.Tensor
        ``node_scores[l]`` has one entry per node of level ``l`` (inputs
        first, outputs last).
    """
    if method not in SCORE_METHODS:
        raise ValueError(f"Unknown importance method {method!r}; choose from {list(SCORE_METHODS)}.")
    spreads, _, subnode_spreads = edge_spreads(network, x, weights)
    return propagate_scores(network, spreads, subnode_spreads, method)


def share_scores(network, x, weights):
    """:func:`importance_scores` with ``method="share"``."""
    return importance_scores(network, x, weights, "share")


def attribution_scores(network, x, weights):
    """:func:`importance_scores` with ``method="attribution"`` (KAN 2.0)."""
    return importance_scores(network, x, weights, "attribution")
