"""Edge, node and feature importances of a fitted KAN.

The definitions (spreads of edge functions on the training sample, shared or
attributed back from the outputs) are documented in
:mod:`skkan._engine.importance`.
"""

import numpy as np
import torch

from .._engine.importance import importance_scores
from ._common import fitted_view

__all__ = ["attribution_scores", "edge_importances", "feature_importances"]


def _scores(view, method):
    edge_scores, node_scores = importance_scores(view.network, *view.sample_tensors(), method)
    as_numpy = [score.to(torch.float64).numpy() for score in edge_scores]
    return as_numpy, [score.to(torch.float64).numpy() for score in node_scores]


def edge_importances(estimator, method="share"):
    """Importance score of every edge of a fitted KAN, per layer.

    Each edge's *spread* is the weighted standard deviation of its learned
    function over (a sample of) the training inputs. Every output node has
    score 1; going from the outputs back to the inputs, a node's score is
    shared among its incoming edges in proportion to their spreads (a
    product node's score is halved between its two factors), and a node's
    score is the sum of its outgoing edges' scores. The scores of each layer
    therefore sum to the number of outputs: an edge's score is the share of
    the outputs' variation that flows through it. Pruned edges score zero.

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
        A fitted estimator.
    method : {"share", "attribution"}, default="share"
        ``"share"`` as above; ``"attribution"`` gives the KAN 2.0 scores of
        :func:`attribution_scores`.

    Returns
    -------
    importances : list of ndarray
        ``importances[l][i, j]`` scores the edge from node ``i`` of level
        ``l`` (level 0: the input features) to output ``j`` of layer ``l``
        (one per sum node, two per product node of level ``l + 1``).
    """
    return _scores(fitted_view(estimator), method)[0]


def attribution_scores(estimator):
    """KAN 2.0 attribution scores of every edge and node (Liu et al., 2024).

    Every output node has score 1. Going back, the edge from node ``i`` to
    output ``j`` of a layer scores ``score_j * sigma_ij / s_j``, where
    ``sigma_ij`` is the spread (weighted standard deviation on the training
    sample) of the edge's function and ``s_j`` the spread of the output it
    feeds; a node's score is the sum of its outgoing edges' scores, and a
    product node gives its full score to each of its two factors. A node
    whose removal would change the outputs a lot scores high, even when
    its edges cancel each other.

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
        A fitted estimator.

    Returns
    -------
    edge_scores : list of ndarray
        ``edge_scores[l]`` of shape (in, n_subnodes) for layer ``l``.
    node_scores : list of ndarray
        ``node_scores[l]`` has one entry per node of level ``l``: the input
        features first, the outputs (score 1) last.
    """
    return _scores(fitted_view(estimator), "attribution")


def feature_importances(estimator):
    """Attribution share of each input feature.

    The input nodes' scores of :func:`attribution_scores` (KAN 2.0),
    divided by their sum: they sum to one, a pruned feature gets exactly
    zero, and all are zero if pruning left a constant.

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
        A fitted estimator.

    Returns
    -------
    importances : ndarray of shape (n_features,)
    """
    scores = _scores(fitted_view(estimator), "attribution")[1][0]
    total = scores.sum()
    return scores / total if total > 0 else np.zeros_like(scores)
