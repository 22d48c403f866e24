"""A waterfall chart of one row's feature contributions (needs the ``plot`` extra)."""

import numbers

import numpy as np

from ._common import fitted_view, import_pyplot
from ._contributions import predict_contributions

__all__ = ["plot_contributions"]

_RAISES_COLOR = "tab:red"
_LOWERS_COLOR = "tab:blue"


def _value_text(X, row, feature):
    """The row's raw value of ``feature``, short."""
    value = X.iloc[row, feature] if hasattr(X, "iloc") else np.asarray(X, dtype=object)[row, feature]
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return "missing" if value != value else f"{float(value):.4g}"
    return "missing" if value is None else str(value)


def output_index(view, output):
    """Position of ``output`` (a class label or output index) among the slices of a 3-D result."""
    classes = view.classes
    if classes is not None:
        matches = np.flatnonzero(classes == output) if output is not None else []
        if len(matches) != 1:
            raise ValueError(f"output must be one of the classes {classes.tolist()}, got {output!r}.")
        return int(matches[0])
    n_outputs = view.network.n_outputs
    if not (isinstance(output, numbers.Integral) and 0 <= output < n_outputs):
        raise ValueError(f"output must be an integer in [0, {n_outputs - 1}], got {output!r}.")
    return int(output)


def plot_contributions(estimator, X, *, row=0, output=None, max_features=10, ax=None):
    """Waterfall chart of how one row's prediction is built from the base value.

    Bars start at the base value (the mean prediction over the training
    sample) and add each feature's contribution (see
    :func:`predict_contributions`), largest first; the remaining features
    share one bar. The last bar ends at the raw prediction (``predict`` for
    a regressor, the logit of ``decision_function`` for a classifier).
    Contributions that raise the prediction are red, those that lower it
    blue; every feature's label shows the row's value.

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
        A fitted estimator.
    X : array-like of shape (n_samples, n_features)
        Rows as for ``predict``; row ``row`` is drawn.
    row : int, default=0
        Which row of ``X``.
    output : class label or int, optional
        For a multiclass classifier, the class whose logit is explained; for
        a regressor with several outputs, the output's index. Not used with
        one output.
    max_features : int, default=10
        Features drawn one by one; the others are summed into one bar.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    ax : matplotlib Axes
    """
    view = fitted_view(estimator)
    n_rows = np.shape(X)[0] if len(np.shape(X)) == 2 else 0
    if not (isinstance(row, numbers.Integral) and 0 <= row < n_rows):
        raise ValueError(f"row must be an integer in [0, {n_rows - 1}] for X of {n_rows} rows, got {row!r}.")
    if not (isinstance(max_features, numbers.Integral) and max_features >= 1):
        raise ValueError(f"max_features must be a positive integer, got {max_features!r}.")
    selected = X.iloc[[row]] if hasattr(X, "iloc") else np.asarray(X)[[row]]
    contributions = predict_contributions(estimator, selected)[0]
    title = f"Contributions to row {row}"
    if contributions.ndim == 2:
        index = output_index(view, output)
        contributions = contributions[:, index]
        title += f" (class {view.classes[index]})" if view.is_classifier else f" (output {index})"
    base, values = float(contributions[-1]), contributions[:-1]
    order = np.argsort(-np.abs(values), kind="stable")
    shown, rest = order[:max_features], order[max_features:]
    labels = [f"{view.feature_names[i]} = {_value_text(X, row, i)}" for i in shown]
    steps = list(values[shown])
    if rest.size:
        labels.append(f"{rest.size} other features")
        steps.append(float(values[rest].sum()))
    plt = import_pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.45 * len(steps) + 1.6))
    starts = base + np.concatenate([[0.0], np.cumsum(steps)[:-1]])
    positions = np.arange(len(steps))[::-1]
    colors = [_RAISES_COLOR if step >= 0 else _LOWERS_COLOR for step in steps]
    ax.barh(positions, steps, left=starts, color=colors, height=0.6)
    ends = np.concatenate([starts, starts + steps])
    low, high = float(ends.min()), float(ends.max())
    span = max(high - low, 1e-12)
    for position, start, step in zip(positions, starts, steps):
        end = start + step
        ax.text(
            end + (0.01 if step >= 0 else -0.01) * span,
            position,
            f"{step:+.3g}",
            va="center",
            ha="left" if step >= 0 else "right",
            fontsize=8,
        )
    prediction = base + float(np.sum(values))
    ax.axvline(base, color="gray", linestyle=":", linewidth=1)
    ax.axvline(prediction, color="black", linewidth=1)
    ax.set_yticks(positions, labels)
    scale = "logit" if view.is_classifier else "prediction"
    ax.set_xlabel(f"{scale}: base value {base:.4g} (dotted) -> {prediction:.4g} (solid)")
    ax.set_xlim(low - 0.15 * span, high + 0.15 * span)
    ax.set_title(title)
    return ax
