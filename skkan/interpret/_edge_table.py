"""A table of every edge of a fitted KAN: what it computes and how well a closed form fits it."""

import math

from .._engine.symbolic_library import SYMBOLIC_FUNCTIONS
from ._common import node_label, single_network_view, subnode_label
from ._importance import edge_importances
from ._symbolic import rank_edge

__all__ = ["symbolic_table"]

_COLUMNS = ["layer", "i", "j", "edge", "kind", "function", "r2", "complexity", "importance"]


def _import_pandas():
    try:
        import pandas
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("The edge table needs pandas; install it with `pip install skkan[symbolic]`.") from error
    return pandas


def symbolic_table(estimator, library=None, *, simplicity_weight=0.2):
    """One row per active edge: its best closed-form candidate, the fit's R² and complexity.

    Use it to decide what to snap: edges whose best candidate fits well
    (R² close to 1) are safe to snap with :func:`fix_symbolic` or
    :func:`auto_symbolic`; the others are better left as splines (they
    appear as ``f_l_i_j`` in :func:`symbolic_formula`) or pruned.

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
        A fitted estimator.
    library : list of str, optional
        Candidate names (see :func:`suggest_symbolic`).
    simplicity_weight : float, default=0.2
        See :func:`suggest_symbolic`.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``layer``, ``i``, ``j`` (the edge's indices), ``edge``
        (readable ``source -> target``), ``kind`` (``"spline"``,
        ``"symbolic"``, ``"lookup"`` or ``"missing"``), ``function`` (the
        best candidate of a spline edge, or the function of a snapped one,
        named as formulas print it), ``r2`` (of that fit to the spline; for
        a snapped edge, the R² it had when snapped), ``complexity`` and
        ``importance`` (see :func:`edge_importances`).

        First-layer edges of a categorical input are lookup tables, exact
        as they are (:func:`auto_symbolic` leaves them): kind and function
        ``"lookup"``, R² 1, complexity the number of values (one per
        category and the unknown-category default). An edge whose input had
        missing values in training has a second row, kind and function
        ``"missing"``: its learned value for a missing input, a constant
        (R² 1, complexity 1) that formulas show as a Piecewise branch; its
        importance is NaN, as the edge's own row counts it.
    """
    pandas = _import_pandas()
    view = single_network_view(estimator, "symbolic_table")
    inputs, weights = view.layer_inputs()
    importances = edge_importances(estimator)
    recorded = {tuple(entry[:3]): entry[4] for entry in getattr(estimator, "symbolic_edges_", [])}
    rows = []
    for layer in range(view.n_layers):
        symbolic = view.symbolic_edges(layer)
        for i, j in view.active_edges(layer):
            edge = f"{node_label(view, layer, i)} -> {subnode_label(view, layer, j)}"
            importance = importances[layer][i, j]
            if layer == 0 and view.is_categorical[i]:
                n_values = len(view.categories(i)) + 1
                rows.append((layer, i, j, edge, "lookup", "lookup", 1.0, n_values, importance))
            else:
                if (i, j) in symbolic:
                    kind, name = "symbolic", symbolic[(i, j)][0]
                    r2 = recorded.get((layer, i, j), math.nan)
                else:
                    best = rank_edge(view.network, inputs, weights, layer, i, j, library, simplicity_weight)[0]
                    kind, name, r2 = "spline", best.name, best.r2
                rows.append((layer, i, j, edge, kind, name, r2, SYMBOLIC_FUNCTIONS[name].complexity, importance))
            if layer == 0 and view.missing_learned[i]:
                rows.append((layer, i, j, edge, "missing", "missing", 1.0, 1, math.nan))
    return pandas.DataFrame(rows, columns=_COLUMNS)
