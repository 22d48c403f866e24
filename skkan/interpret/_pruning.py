"""Pruning a fitted KAN by edge and node importance."""

import copy

import numpy as np
import torch

from .._engine.importance import SCORE_METHODS
from .._engine.pruning import prune_network
from ._common import replace_network, single_network_view

__all__ = ["prune"]


def _sample_output(view, network):
    x, _ = view.sample_tensors(network)
    with torch.no_grad():
        return network(x).to(torch.float64).numpy()


def prune(estimator, threshold=1e-2, *, node_threshold=None, by="share"):
    """Remove the edges and nodes of a fitted KAN whose importance is below a threshold.

    Pruned edges are switched off; their mean over the training sample is
    folded into the bias of the node they fed, so predictions only lose the
    edge's variation. Train further with ``warm_start=True`` to recover
    accuracy; sparsity-regularised training (``lamb > 0``) beforehand makes
    pruning far cleaner.

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
        A fitted estimator; it is changed in place.
    threshold : float, default=1e-2
        Edges with an importance score below it are removed.
    by : {"share", "attribution"}, default="share"
        The score: ``"share"`` (see :func:`~skkan.interpret.edge_importances`;
        a layer's scores sum to the number of outputs, so the threshold is a
        fraction of the output variation) or ``"attribution"`` (KAN 2.0, see
        :func:`~skkan.interpret.attribution_scores`; scores are not
        normalised, pykan's thresholds are ``1e-2`` for nodes and ``3e-2``
        for edges).
    node_threshold : float, optional
        Nodes (input features included) with a score below it lose all their
        edges; ``threshold`` by default. Hidden nodes left without incoming
        or outgoing edges are removed too.

    Returns
    -------
    estimator : KANRegressor or KANClassifier
        The estimator, with ``network_``, ``n_params_`` and
        ``pruning_summary_`` (edges removed, parameters before and after, and
        the root-mean-square change of the network outputs on the training
        sample, relative to their standard deviation) updated.
    """
    view = single_network_view(estimator, "prune")
    if not threshold >= 0:
        raise ValueError(f"threshold must be a non-negative number, got {threshold!r}.")
    if by not in SCORE_METHODS:
        raise ValueError(f"by must be one of {list(SCORE_METHODS)}, got {by!r}.")
    if node_threshold is not None and not node_threshold >= 0:
        raise ValueError(f"node_threshold must be a non-negative number, got {node_threshold!r}.")
    network = copy.deepcopy(view.network)
    before = _sample_output(view, network)
    n_removed = prune_network(network, *view.sample_tensors(network), threshold, node_threshold, method=by)
    after = _sample_output(view, network)
    spread = before.std(axis=0)
    change = np.sqrt(np.mean((after - before) ** 2, axis=0)) / np.where(spread > 0, spread, 1.0)
    n_params_before = estimator.n_params_
    replace_network(estimator, network)
    estimator.pruning_summary_ = {
        "n_edges_removed": n_removed,
        "n_params_before": n_params_before,
        "n_params_after": estimator.n_params_,
        "relative_output_change": float(change.max()) if change.size else 0.0,
    }
    return estimator
