"""The estimators' interpretation methods: thin delegators to :mod:`skkan.interpret`.

The face of skkan does not depend on the interpretation layer: each method
imports its function from :mod:`skkan.interpret` only when called, and
:mod:`skkan.interpret` reads the estimator through its public
:class:`~skkan.FittedKAN` view (``fitted_view_``). Full documentation lives
with the functions.
"""

__all__ = ["_InterpretationMethods"]


class _InterpretationMethods:
    """``feature_importances_``, ``prune``, ``plot*`` and the symbolic methods of a fitted KAN."""

    @property
    def feature_importances_(self):
        """Attribution share of each input feature (KAN 2.0 attribution scores).

        See :func:`skkan.interpret.feature_importances`: the input nodes'
        attribution scores, propagated back from the outputs, divided by
        their sum (they sum to one; a pruned feature gets exactly zero).
        """
        from .interpret import feature_importances

        return feature_importances(self)

    def edge_importances(self, method="share"):
        """Importance score of every edge, per layer; see :func:`skkan.interpret.edge_importances`."""
        from .interpret import edge_importances

        return edge_importances(self, method)

    def attribution_scores(self):
        """KAN 2.0 edge and node attribution scores; see :func:`skkan.interpret.attribution_scores`."""
        from .interpret import attribution_scores

        return attribution_scores(self)

    def predict_contributions(self, X, *, as_frame=False):
        """Each feature's contribution to every row's raw prediction, plus the base value.

        See :func:`skkan.interpret.predict_contributions`: per row, the
        contributions plus the last column (the base value) sum to
        ``predict(X)`` (regressor), ``log(predict(X))`` (regressor with
        ``loss="poisson"`` or ``"gamma"``) or ``decision_function(X)``
        (classifier).
        """
        from .interpret import predict_contributions

        return predict_contributions(self, X, as_frame=as_frame)

    def plot_contributions(self, X, *, row=0, output=None, max_features=10, ax=None):
        """Waterfall chart of one row's contributions; see :func:`skkan.interpret.plot_contributions`."""
        from .interpret import plot_contributions

        return plot_contributions(self, X, row=row, output=output, max_features=max_features, ax=ax)

    def prune(self, threshold=1e-2, *, node_threshold=None, by="share"):
        """Remove weak edges and nodes in place; see :func:`skkan.interpret.prune`.

        Returns
        -------
        self : object
        """
        from .interpret import prune

        return prune(self, threshold, node_threshold=node_threshold, by=by)

    def plot(self, *, beta=3.0, max_shapes=None, ax=None, title=None):
        """Draw the network with each edge's function; see :func:`skkan.interpret.plot_network`."""
        from .interpret import plot_network

        return plot_network(self, beta=beta, max_shapes=max_shapes, ax=ax, title=title)

    def plot_edge(self, layer, i, j, *, ax=None, n_points=200):
        """Plot one edge function; see :func:`skkan.interpret.plot_edge`."""
        from .interpret import plot_edge

        return plot_edge(self, layer, i, j, ax=ax, n_points=n_points)

    def plot_features(self, features=None, *, n_cols=3, n_points=200):
        """Per-feature shape plots; see :func:`skkan.interpret.plot_features`."""
        from .interpret import plot_features

        return plot_features(self, features, n_cols=n_cols, n_points=n_points)

    def plot_feature_effects(self, features=None, *, output=None, n_cols=3):
        """Each feature's effect on the prediction; see :func:`skkan.interpret.plot_feature_effects`."""
        from .interpret import plot_feature_effects

        return plot_feature_effects(self, features, output=output, n_cols=n_cols)

    def suggest_symbolic(self, layer, i, j, library=None, *, top_k=5, simplicity_weight=0.2):
        """Rank closed-form candidates for one edge; see :func:`skkan.interpret.suggest_symbolic`."""
        from .interpret import suggest_symbolic

        return suggest_symbolic(self, layer, i, j, library, top_k=top_k, simplicity_weight=simplicity_weight)

    def fix_symbolic(self, layer, i, j, name):
        """Snap one edge to a library function; see :func:`skkan.interpret.fix_symbolic`."""
        from .interpret import fix_symbolic

        return fix_symbolic(self, layer, i, j, name)

    def auto_symbolic(
        self,
        r2_threshold=0.99,
        *,
        library=None,
        layers=None,
        X=None,
        y=None,
        max_iter=50,
        simplicity_weight=0.2,
        time_budget=None,
    ):
        """Snap every edge whose best closed-form fit is good enough; see :func:`skkan.interpret.auto_symbolic`.

        Returns
        -------
        self : object
        """
        from .interpret import auto_symbolic

        return auto_symbolic(
            self,
            r2_threshold,
            library=library,
            layers=layers,
            X=X,
            y=y,
            max_iter=max_iter,
            simplicity_weight=simplicity_weight,
            time_budget=time_budget,
        )

    def symbolic_table(self, library=None, *, simplicity_weight=0.2):
        """Per-edge table of best candidates (pandas); see :func:`skkan.interpret.symbolic_table`."""
        from .interpret import symbolic_table

        return symbolic_table(self, library, simplicity_weight=simplicity_weight)

    def symbolic_formula(self, precision=4, *, simplify=True, spline_edges="keep", library=None):
        """Sympy formula of every output; see :func:`skkan.interpret.symbolic_formula`."""
        from .interpret import symbolic_formula

        return symbolic_formula(self, precision, simplify=simplify, spline_edges=spline_edges, library=library)

    def symbolic_code(self, language="python", precision=4, *, simplify=True, spline_edges="keep", library=None):
        """The formula as Python, C or JavaScript source; see :func:`skkan.interpret.symbolic_code`."""
        from .interpret import symbolic_code

        return symbolic_code(self, language, precision, simplify=simplify, spline_edges=spline_edges, library=library)

    def symbolic_function(self, precision=4, *, simplify=True, spline_edges="keep", library=None):
        """The symbolic formula as a numpy function of ``X``; see :func:`skkan.interpret.symbolic_function`."""
        from .interpret import symbolic_function

        return symbolic_function(self, precision, simplify=simplify, spline_edges=spline_edges, library=library)

    def symbolic_latex(self, precision=4, *, simplify=True, spline_edges="keep", library=None):
        """LaTeX strings of the symbolic formula; see :func:`skkan.interpret.symbolic_latex`."""
        from .interpret import symbolic_latex

        return symbolic_latex(self, precision, simplify=simplify, spline_edges=spline_edges, library=library)
