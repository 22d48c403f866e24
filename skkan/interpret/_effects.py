"""Each feature's effect on the prediction, as EBM's shape plots show it (needs the ``plot`` extra)."""

import textwrap

import numpy as np

from ._contribution_plot import output_index
from ._contributions import contributions_of_network_inputs
from ._plot import features_to_show, panel_grid

__all__ = ["is_additive", "plot_feature_effects"]

_POINT_COLOR = "tab:blue"
_CURVE_COLOR = "black"
_BINS = 20
_LABEL_WIDTH = 32


def is_additive(view):
    """Whether no two features meet in a hidden node (no hidden layer, or every first-layer node sees one feature).

    Then each feature's contribution is a function of that feature alone:
    its exact shape function.
    """
    if view.n_layers == 1:
        return True
    groups = view.interaction_groups
    return groups is not None and all(len(group) == 1 for group in groups)


def _binned(x, y):
    """Quantile bins of ``x``: centres, mean, and the 10th and 90th percentiles of ``y`` in each."""
    edges = np.unique(np.quantile(x, np.linspace(0, 1, _BINS + 1)))
    if edges.size < 2:
        return x[:1], y[:1], y[:1], y[:1]
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)
    centres, means, lows, highs = [], [], [], []
    for b in np.unique(which):
        rows = which == b
        centres.append(x[rows].mean())
        means.append(y[rows].mean())
        lows.append(np.quantile(y[rows], 0.1))
        highs.append(np.quantile(y[rows], 0.9))
    return (np.array(v) for v in (centres, means, lows, highs))


def _draw_numeric(ax, x, y, exact):
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    if exact:
        ax.plot(x, y, color=_CURVE_COLOR, label="exact shape function")
        return
    ax.scatter(x, y, s=4, alpha=0.25, color=_POINT_COLOR, linewidths=0, label="rows of the training sample")
    centres, means, lows, highs = _binned(x, y)
    ax.fill_between(centres, lows, highs, color=_POINT_COLOR, alpha=0.15, label="10-90% of rows")
    ax.plot(centres, means, color=_CURVE_COLOR, label="mean effect")


def _draw_categorical(ax, labels, codes, y):
    positions, means, lows, highs = [], [], [], []
    for code, label in enumerate(labels):
        rows = codes == code
        if rows.any():
            positions.append(label)
            means.append(y[rows].mean())
            lows.append(max(y[rows].mean() - y[rows].min(), 0.0))
            highs.append(max(y[rows].max() - y[rows].mean(), 0.0))
    ax.errorbar(positions, means, yerr=[lows, highs], fmt="o", color=_CURVE_COLOR, capsize=3, label="mean, range")
    ax.tick_params(axis="x", labelrotation=45)


def plot_feature_effects(estimator, features=None, *, output=None, n_cols=3):
    """Each feature's effect on the prediction, over the training sample the model keeps.

    The effect of a feature on a row is its contribution
    (:func:`predict_contributions`): what it adds to the raw prediction
    (``predict`` for a regressor, its log for a log-link regressor
    (``loss="poisson"`` or ``"gamma"``), the logit of ``decision_function``
    for a classifier) against the base value, the mean prediction. This is what
    EBM's shape plots show, and unlike the first-layer edges of
    :func:`plot_features` it includes what later layers make of the feature.

    * For an additive model (``interaction_cst="no_interactions"``, or no
      hidden layer) a feature's contribution depends on that feature alone:
      the plot draws its exact shape function.
    * Otherwise the contributions of one feature value differ between rows
      (the feature interacts with others): every row of the sample is a
      point, with the mean effect per quantile bin as a curve and the band
      of its 10th to 90th percentiles. A wide band means strong
      interactions; the curve is an estimate of the main effect.

    All panels share one y scale, so that a feature's visual size is its
    effect's size. Categorical features show each category's mean effect
    and its range over rows; rows where the feature is missing are not drawn (their
    contribution is in :func:`predict_contributions`). Panel titles give the
    feature's share of :func:`feature_importances`.

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
        A fitted estimator.
    features : list of int or str, optional
        Features to show (indices or names); all used features by default,
        most important first.
    output : class label or int, optional
        For a multiclass classifier the class whose logit is explained; for
        a regressor with several outputs, the output's index.
    n_cols : int, default=3
        Panels per row.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    view, shares, indices = features_to_show(estimator, features)
    if features is None:
        indices = sorted(indices, key=lambda i: -shares[i])
    inputs = view.sample_inputs
    effects = contributions_of_network_inputs(view, inputs)
    effects = effects[:, :, 0] if effects.shape[2] == 1 else effects[:, :, output_index(view, output)]
    exact = is_additive(view)
    target = "logit" if view.is_classifier else "log prediction" if view.target_link == "log" else "prediction"
    # One y scale for every panel, as the effects add up: a feature that barely moves predictions looks flat.
    fig, axes = panel_grid(len(indices), n_cols, sharey=True)
    for ax, i in zip(axes, indices):
        present = ~np.isnan(inputs[:, i])
        if view.is_categorical[i]:
            labels = [str(c) for c in view.categories(i)]
            _draw_categorical(ax, labels, inputs[present, i], effects[present, i])
        else:
            _draw_numeric(ax, view.to_original_units(i, inputs[present, i]), effects[present, i], exact)
        ax.axhline(0.0, color="gray", linewidth=0.5)
        name = view.feature_names[i]
        ax.set_xlabel(textwrap.fill(name, _LABEL_WIDTH))
        ax.set_ylabel(f"effect on {target}")
        ax.set_title(f"{textwrap.shorten(name, _LABEL_WIDTH)}: importance {shares[i]:.1%}", fontsize=9)
    if axes:
        axes[0].legend(fontsize=7, loc="best")
    return fig
