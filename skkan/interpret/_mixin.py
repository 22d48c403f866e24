"""Interpretation methods shared by the KAN estimators.

:class:`_InterpretableKANMixin` gives a fitted estimator its importances,
pruning, edge plots and symbolic regression. It works on ``network_`` and on
a small weighted sample of the scaled training inputs kept at fit time; the
heavy lifting lives in :mod:`skkan._engine.pruning`,
:mod:`skkan._engine.symbolic`, :mod:`._plot` and :mod:`._formula`.
"""

import copy

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._engine.pruning import edge_spreads, importance_scores, prune_network
from ._symbolic import _SymbolicMixin

__all__ = ["_InterpretableKANMixin"]

# Rows of the training inputs kept for importances, pruning, plots and
# symbolic fits: enough for stable statistics, small enough to pickle.
_SAMPLE_ROWS = 2000


class _InterpretableKANMixin(_SymbolicMixin):
    """Importances, pruning, plots and symbolic formulas of a fitted KAN."""

    # ------------------------------------------------------------------
    # Data kept for interpretation
    # ------------------------------------------------------------------
    def _store_interpretation_sample(self, X_scaled, sample_weight, seed):
        rows = np.flatnonzero(sample_weight > 0)
        if rows.size > _SAMPLE_ROWS:
            rows = np.sort(check_random_state(seed).choice(rows, _SAMPLE_ROWS, replace=False))
        self._interpretation_sample = np.asarray(X_scaled[rows], dtype=np.float64)
        self._interpretation_weights = np.asarray(sample_weight[rows], dtype=np.float64)

    def _sample_tensors(self, network=None):
        network = self.network_ if network is None else network
        dtype = next(network.parameters()).dtype
        x = torch.as_tensor(self._interpretation_sample, dtype=dtype)
        weights = torch.as_tensor(self._interpretation_weights, dtype=dtype)
        return x, weights

    def _layer_inputs(self, network=None):
        network = self.network_ if network is None else network
        x, weights = self._sample_tensors(network)
        return network.layer_inputs(x), weights

    def _check_edge(self, layer, i, j):
        check_is_fitted(self)
        layers = self.network_.layers
        if not 0 <= layer < len(layers):
            raise ValueError(f"layer must be in [0, {len(layers) - 1}], got {layer}.")
        if not (0 <= i < layers[layer].in_features and 0 <= j < layers[layer].out_features):
            raise ValueError(
                f"Edge ({i}, {j}) does not exist in layer {layer} of shape "
                f"({layers[layer].in_features}, {layers[layer].out_features})."
            )

    def _input_names(self):
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            return [f"x{i}" for i in range(self.n_features_in_)]
        return [str(name) for name in names]

    # ------------------------------------------------------------------
    # Importances
    # ------------------------------------------------------------------
    def _scores(self):
        check_is_fitted(self)
        spreads, _ = edge_spreads(self.network_, *self._sample_tensors())
        return importance_scores(spreads)

    @property
    def feature_importances_(self):
        """Share of the outputs' variation flowing through each input feature.

        See :meth:`edge_importances` for the definition; the values are the
        input nodes' scores divided by their sum (they sum to one, and a
        pruned feature gets exactly zero; all are zero if pruning left a
        constant).
        """
        _, node_scores = self._scores()
        scores = node_scores[0].to(torch.float64).numpy()
        total = scores.sum()
        # A network pruned down to a constant uses no feature.
        return scores / total if total > 0 else np.zeros_like(scores)

    def edge_importances(self):
        """Importance score of every edge, per layer.

        Each edge's *spread* is the weighted standard deviation of its
        learned function over (a sample of) the training inputs. Every output
        node has score 1; going from the outputs back to the inputs, a node's
        score is shared among its incoming edges in proportion to their
        spreads, and a node's score is the sum of its outgoing edges' scores.
        The scores of each layer therefore sum to the number of outputs:
        an edge's score is the share of the outputs' variation that flows
        through it. Pruned edges score zero.

        Returns
        -------
        importances : list of ndarray
            ``importances[l][i, j]`` scores the edge from node ``i`` of layer
            ``l`` (layer 0: the input features) to node ``j`` of layer
            ``l + 1``.
        """
        edge_scores, _ = self._scores()
        return [score.to(torch.float64).numpy() for score in edge_scores]

    # ------------------------------------------------------------------
    # Pruning
    # ------------------------------------------------------------------
    def _raw_sample_output(self, network):
        x, _ = self._sample_tensors(network)
        with torch.no_grad():
            return network(x).to(torch.float64).numpy()

    def prune(self, threshold=1e-2, *, node_threshold=None):
        """Remove edges and nodes whose importance is below a threshold.

        Pruned edges are switched off in each layer's ``mask``; their mean
        over the training sample is folded into the bias of the node they
        fed, so predictions only lose the edge's variation. Train further
        with ``warm_start=True`` to recover accuracy; sparsity-regularised
        training (``lamb > 0``) beforehand makes pruning far cleaner.

        Parameters
        ----------
        threshold : float, default=1e-2
            Edges with an importance score (see :meth:`edge_importances`;
            a layer's scores sum to the number of outputs) below it are
            removed.
        node_threshold : float, optional
            Nodes (input features included) with a score below it lose all
            their edges; ``threshold`` by default. Hidden nodes left without
            incoming or outgoing edges are removed too.

        Returns
        -------
        self : object
            The estimator, with ``network_``, ``n_params_`` and
            ``pruning_summary_`` (edges removed, parameters before and
            after, and the root-mean-square change of the network outputs on
            the training sample, relative to their standard deviation)
            updated.
        """
        check_is_fitted(self)
        if not threshold >= 0:
            raise ValueError(f"threshold must be a non-negative number, got {threshold!r}.")
        network = copy.deepcopy(self.network_)
        before = self._raw_sample_output(network)
        n_removed = prune_network(network, *self._sample_tensors(network), threshold, node_threshold)
        after = self._raw_sample_output(network)
        spread = before.std(axis=0)
        change = np.sqrt(np.mean((after - before) ** 2, axis=0)) / np.where(spread > 0, spread, 1.0)
        n_params_before = self.n_params_
        self.network_ = network
        self.n_params_ = network.n_active_parameters()
        self.pruning_summary_ = {
            "n_edges_removed": n_removed,
            "n_params_before": n_params_before,
            "n_params_after": self.n_params_,
            "relative_output_change": float(change.max()) if change.size else 0.0,
        }
        return self

    # ------------------------------------------------------------------
    # Plots
    # ------------------------------------------------------------------
    def plot(self, *, beta=3.0, ax=None, title=None):
        """Draw the network with each edge's learned function on it.

        Parameters
        ----------
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
        from ._plot import plot_network

        check_is_fitted(self)
        return plot_network(self, beta=beta, ax=ax, title=title)

    def plot_edge(self, layer, i, j, *, ax=None, n_points=200):
        """Plot one edge function (layer 0 against the original feature units).

        Returns
        -------
        ax : matplotlib Axes
        """
        from ._plot import plot_edge

        self._check_edge(layer, i, j)
        return plot_edge(self, layer, i, j, ax=ax, n_points=n_points)

    def plot_features(self, features=None, *, n_cols=3, n_points=200):
        """Shape plots: each feature's first-layer edge functions in original units.

        For a regressor without hidden layers these are exactly the additive
        contributions of the features to the prediction, in target units.

        Parameters
        ----------
        features : list of int or str, optional
            Features to show (indices or names); all used features by
            default.
        n_cols : int, default=3
            Subplots per row.
        n_points : int, default=200
            Points per curve.

        Returns
        -------
        fig : matplotlib.figure.Figure
        """
        from ._plot import plot_features

        check_is_fitted(self)
        return plot_features(self, features=features, n_cols=n_cols, n_points=n_points)
