"""Edge, node and feature importances of a fitted KAN.

The definition (spreads of edge functions on the training sample, shared
back from the outputs) is documented in :mod:`skkan._engine.pruning`.
"""

import numpy as np
import torch

from .._engine.pruning import edge_spreads, importance_scores
from ._common import fitted_view

__all__ = ["edge_importances", "feature_importances"]


def _scores(view):
    spreads, _ = edge_spreads(view.network, *view.sample_tensors())
    return importance_scores(spreads)


def edge_importances(estimator):
    """Importance score of every edge of a fitted KAN, per layer.

    Each edge's *spread* is the weighted standard deviation of its learned
    function over (a sample of) the training inputs. Every output node has
    score 1; going from the outputs back to the inputs, a node's score is
    shared among its incoming edges in proportion to their spreads, and a
    node's score is the sum of its outgoing edges' scores. The scores of each
    layer therefore sum to the number of outputs: an edge's score is the
    share of the outputs' variation that flows through it. Pruned edges
    score zero.

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
        A fitted estimator.

    Returns
    -------
    importances : list of ndarray
        ``importances[l][i, j]`` scores the edge from node ``i`` of layer
        ``l`` (layer 0: the input features) to node ``j`` of layer ``l + 1``.
    """
    edge_scores, _ = _scores(fitted_view(estimator))
    return [score.to(torch.float64).numpy() for score in edge_scores]


def feature_importances(estimator):
    """Share of the outputs' variation flowing through each input feature.

    The input nodes' scores of :func:`edge_importances`, divided by their
    sum: they sum to one, a pruned feature gets exactly zero, and all are
    zero if pruning left a constant.

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
        A fitted estimator.

    Returns
    -------
    importances : ndarray of shape (n_features,)
    """
    _, node_scores = _scores(fitted_view(estimator))
    scores = node_scores[0].to(torch.float64).numpy()
    total = scores.sum()
    return scores / total if total > 0 else np.zeros_like(scores)
