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
from sklearn.utils.validation import check_is_fitted, validate_data

from .._engine.pruning import edge_spreads, importance_scores, prune_network
from .._engine.symbolic import SYMBOLIC_FUNCTIONS, fine_tune, polish_symbolic, rank_symbolic, snap_edge
from .._engine.training import prediction_loss

__all__ = ["_InterpretableKANMixin"]

# Rows of the training inputs kept for importances, pruning, plots and
# symbolic fits: enough for stable statistics, small enough to pickle.
_SAMPLE_ROWS = 2000
# Rows used to rank candidate functions on one edge (the grid search is
# quadratic in its resolution, linear in rows).
_RANK_ROWS = 512


class _InterpretableKANMixin:
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
    # Symbolic regression
    # ------------------------------------------------------------------
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

    def _rank_edge(self, network, inputs, weights, layer, i, j, library, simplicity_weight):
        with torch.no_grad():
            values = network.layers[layer].edge_activations(inputs[layer])[:, i, j]
        x = inputs[layer][:, i]
        if x.shape[0] > _RANK_ROWS:
            rows = torch.as_tensor(np.sort(check_random_state(0).choice(x.shape[0], _RANK_ROWS, replace=False)))
            x, values, weights = x[rows], values[rows], weights[rows]
        return rank_symbolic(x, values, weights, library=library, simplicity_weight=simplicity_weight)

    def suggest_symbolic(self, layer, i, j, library=None, *, top_k=5, simplicity_weight=0.2):
        """Rank closed-form candidates for one edge function.

        Every candidate ``f`` is fitted as ``c * f(a * x + b) + d`` to the
        edge's values on the training sample (grid search of ``a, b``, least
        squares for ``c, d``, then joint polishing) and scored by R².

        Parameters
        ----------
        layer, i, j : int
            The edge from node ``i`` of layer ``layer`` to node ``j`` of the
            next layer. In layer 0 the edge's input is the standardised
            feature ``i``.
        library : list of str, optional
            Candidate names, default all of ``x, x^2, x^3, x^4, 1/x, sqrt,
            exp, log, sin, cos, tanh, abs, gaussian, arctan, arctanh,
            arcsin``.
        top_k : int, default=5
            Number of candidates returned.
        simplicity_weight : float, default=0.2
            Candidates whose unexplained variance ``1 - R²`` is within a
            factor 10 of the best count as tied; the score is
            ``max(log10(1 - R²), best + 1) + simplicity_weight *
            complexity`` (lower is better), so the simplest of near-tied
            functions wins (on a short range ``cos`` can mimic ``x^2``).

        Returns
        -------
        candidates : list of SymbolicFit
            Best first; each has ``name``, ``r2`` and the numbers ``a, b, c,
            d``.
        """
        self._check_edge(layer, i, j)
        inputs, weights = self._layer_inputs()
        fits = self._rank_edge(self.network_, inputs, weights, layer, i, j, library, simplicity_weight)
        return fits[:top_k]

    def _tuning_data(self, network, X, y):
        """Inputs, targets and loss used to fine-tune after snapping edges."""
        if X is None:
            # Distillation: match the outputs of the network before snapping.
            x, weights = self._sample_tensors(network)
            with torch.no_grad():
                target = network(x)
            return x, target, weights, "squared_error"
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        dtype = next(network.parameters()).dtype
        x = torch.as_tensor((X - self._input_mean) / self._input_scale, dtype=dtype)
        weights = torch.ones(x.shape[0], dtype=dtype)
        y = np.asarray(y)
        if hasattr(self, "classes_"):
            encoded = np.searchsorted(self.classes_, y)
            if self.classes_.size == 2:
                return x, torch.as_tensor(encoded, dtype=dtype), weights, "binary_log_loss"
            return x, torch.as_tensor(encoded, dtype=torch.long), weights, "log_loss"
        y = y.reshape(-1, 1) if y.ndim == 1 else y
        target = torch.as_tensor((y - self._target_mean) / self._target_scale, dtype=dtype)
        return x, target, weights, "squared_error"

    def fix_symbolic(self, layer, i, j, name):
        """Snap one edge to the library function ``name`` (fitted affinely).

        Parameters
        ----------
        layer, i, j : int
            The edge, as in :meth:`suggest_symbolic`.
        name : str
            A candidate name, e.g. ``"sin"``.

        Returns
        -------
        fit : SymbolicFit
            The fit used; its ``r2`` tells how well the function matches.
        """
        self._check_edge(layer, i, j)
        if name not in SYMBOLIC_FUNCTIONS:
            raise ValueError(f"Unknown symbolic function {name!r}; choose from {list(SYMBOLIC_FUNCTIONS)}.")
        network = copy.deepcopy(self.network_)
        inputs, weights = self._layer_inputs(network)
        fit = self._rank_edge(network, inputs, weights, layer, i, j, [name], 0.0)[0]
        snap_edge(network.layers[layer], i, j, fit)
        self.network_ = network
        self.n_params_ = network.n_active_parameters()
        return fit

    def auto_symbolic(
        self, r2_threshold=0.99, *, library=None, layers=None, X=None, y=None, max_iter=50, simplicity_weight=0.2
    ):
        """Snap every edge whose best closed-form fit is good enough.

        Layer by layer, each remaining spline edge is ranked as in
        :meth:`suggest_symbolic`; if the best candidate's R² reaches
        ``r2_threshold`` the edge computes that function from then on.
        After each layer, all remaining numbers (affine parameters of the
        symbolic edges, splines not snapped, biases) are fine-tuned with
        L-BFGS, so later layers see the inputs the snapped edges produce.
        Once every edge is symbolic (regression), Levenberg-Marquardt steps
        polish the constants to the precision the data allow.

        Parameters
        ----------
        r2_threshold : float, default=0.99
            Minimum R² for snapping an edge.
        library : list of str, optional
            Candidate names (see :meth:`suggest_symbolic`).
        layers : list of int, optional
            Layers whose edges may be snapped (all by default). Snapping one
            layer with a restricted library, then the next, guides the
            search, e.g. ``layers=[0], library=["x"]`` first.
        X, y : array-like, optional
            Data to fine-tune on (use the training data for the most
            accurate constants). By default the snapped network is tuned to
            reproduce the unsnapped network on the stored training sample.
        max_iter : int, default=50
            L-BFGS steps of each fine-tuning round; 0 disables it.
        simplicity_weight : float, default=0.2
            See :meth:`suggest_symbolic`.

        Returns
        -------
        self : object
            The estimator; ``symbolic_edges_`` lists the snapped edges as
            ``(layer, i, j, name, r2)``.
        """
        check_is_fitted(self)
        if (X is None) != (y is None):
            raise ValueError("Pass both X and y to fine-tune on data, or neither.")
        network = copy.deepcopy(self.network_)
        x, target, weights, loss = self._tuning_data(network, X, y)

        def loss_fn(output, target, weights):
            return prediction_loss(output, target, weights, loss)

        snapped = []
        for index, layer in enumerate(network.layers):
            if layers is not None and index not in layers:
                continue
            inputs, sample_weights = self._layer_inputs(network)
            for i, j in (layer.mask != 0).nonzero().tolist():
                fits = self._rank_edge(network, inputs, sample_weights, index, i, j, library, simplicity_weight)
                if fits[0].r2 >= r2_threshold:
                    snap_edge(layer, i, j, fits[0])
                    snapped.append((index, i, j, fits[0].name, fits[0].r2))
            if max_iter:
                fine_tune(network, x, target, weights, loss_fn, max_iter=max_iter)
        fully_symbolic = all(not bool((layer.mask != 0).any()) for layer in network.layers)
        if max_iter and fully_symbolic and loss == "squared_error":
            polish_symbolic(network, x, target, weights, max_iter=2 * max_iter)
        self.network_ = network
        self.n_params_ = network.n_active_parameters()
        self.symbolic_edges_ = list(getattr(self, "symbolic_edges_", [])) + snapped
        return self

    def symbolic_formula(self, precision=4, *, simplify=True):
        """Closed-form expression of every output, in the original feature units.

        Requires every remaining edge to be symbolic (see
        :meth:`auto_symbolic`). Input scaling (and, for regressors, target
        scaling) is undone, the expression is expanded, numbers are rounded
        to ``precision`` decimals (terms that round to zero vanish) and
        numbers within rounding distance of a simple rational or rational
        multiple of pi are replaced by it.

        Parameters
        ----------
        precision : int, default=4
            Decimals kept.
        simplify : bool, default=True
            Run sympy's simplification on the rounded result.

        Returns
        -------
        expressions : list of sympy.Expr
            One per output (regression target, or logit for classifiers),
            in the symbols ``feature_names_in_`` (else ``x0, x1, ...``).
        """
        from ._formula import network_formula

        check_is_fitted(self)
        return network_formula(self, precision=precision, simplify=simplify)

    def symbolic_function(self, precision=4, *, simplify=True):
        """The symbolic formula as a numpy function of ``X``.

        Returns
        -------
        function : callable
            ``function(X)`` takes an array of shape (n_samples,
            n_features_in_) and returns an array of shape (n_samples,) or
            (n_samples, n_outputs), like the raw model output.
        """
        from ._formula import formula_to_numpy

        return formula_to_numpy(self.symbolic_formula(precision, simplify=simplify), self._input_names())

    def symbolic_latex(self, precision=4, *, simplify=True):
        """LaTeX strings of :meth:`symbolic_formula`, one per output."""
        from ._formula import _import_sympy

        sympy = _import_sympy()
        return [sympy.latex(expression) for expression in self.symbolic_formula(precision, simplify=simplify)]

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
