"""The linear model a default fit starts from (``init="linear"``).

A ridge regression (regressor) or a logistic regression (classifier), as
scikit-learn fits them with their default penalties, on the inputs as the
network sees them: standardised numeric inputs (a missing value counts as
the mean, plus an indicator of its own), and one indicator per category of
a categorical input. Its coefficients become the network's starting state
(:func:`skkan._engine.linear_start.start_at_linear`), so training starts
from the linear model and, with early stopping, keeps a state that
validates at least as well as it.

Other regression losses: Poisson and Gamma deviance fit the matching
log-link GLM (:class:`~sklearn.linear_model.PoissonRegressor`,
:class:`~sklearn.linear_model.GammaRegressor`, with the penalty of the
ridge in their per-row units); absolute error, Huber and quantile loss keep
the ridge's slopes and move its intercept to that loss's best constant for
the residuals (a close, cheap start that training then refines).
"""

import warnings
from dataclasses import dataclass

import numpy as np

from ._regression_targets import target_prior

__all__ = ["LinearStart", "fit_linear_start"]

# Training rows the linear model is fitted on at most (a seeded subsample above):
# a linear model of a few dozen coefficients is settled long before that.
_MAX_LINEAR_ROWS = 20_000


@dataclass(frozen=True)
class LinearStart:
    """A linear model in the network's terms (see :func:`skkan._engine.linear_start.start_at_linear`).

    Attributes
    ----------
    slopes : ndarray of shape (n_features, n_outputs)
    intercept : ndarray of shape (n_outputs,)
    missing_values : ndarray of shape (n_features, n_outputs)
    category_values : ndarray of shape (n_features, n_outputs, n_slots)
    """

    slopes: np.ndarray
    intercept: np.ndarray
    missing_values: np.ndarray
    category_values: np.ndarray

    def arrays(self):
        """The arrays in the order ``start_at_linear`` takes them."""
        return self.slopes, self.intercept, self.missing_values, self.category_values


def _design(X_scaled, n_categories):
    """The linear model's inputs and, per column, ``(kind, input, category)`` saying what it encodes."""
    columns, meaning = [], []
    missing = np.isnan(X_scaled)
    for i, count in enumerate(n_categories):
        values = X_scaled[:, i]
        if count:
            for code in range(count):
                columns.append(values == code)
                meaning.append(("category", i, code))
        else:
            columns.append(np.where(missing[:, i], 0.0, values))
            meaning.append(("slope", i, 0))
        if missing[:, i].any():
            columns.append(missing[:, i])
            meaning.append(("missing", i, 0))
    design = np.column_stack(columns).astype(np.float64) if columns else np.zeros((X_scaled.shape[0], 0))
    return design, meaning


def fit_linear_start(X_scaled, targets, sample_weight, loss, n_outputs, n_categories, seed):
    """Fit the linear model of a default start on the training rows.

    Parameters
    ----------
    X_scaled : ndarray of shape (n_samples, n_features)
        Standardised training inputs (NaN: missing; codes for categorical inputs).
    targets : ndarray
        Training targets as the network's loss takes them: standardised
        values (n_samples, n_outputs), class indices or 0/1 labels.
    sample_weight : ndarray of shape (n_samples,)
    loss : skkan._engine.losses.Loss
    n_outputs : int
    n_categories : list of int
        Categories of each input, 0 for a numeric one.
    seed : int
        Seeds the subsample of training rows above ``_MAX_LINEAR_ROWS``.

    Returns
    -------
    LinearStart or None
        None when the rows hold a single class (no logistic model to fit).
    """
    from sklearn.linear_model import LogisticRegression

    rows = np.flatnonzero(sample_weight > 0)
    if rows.size > _MAX_LINEAR_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, _MAX_LINEAR_ROWS, replace=False))
    design, meaning = _design(X_scaled[rows], n_categories)
    weights = sample_weight[rows] / sample_weight[rows].mean()
    if not loss.is_classification:
        coef, intercept = _linear_regression(design, targets[rows], weights, loss)
    else:
        labels = np.asarray(targets[rows]).astype(np.int64)
        if np.unique(labels).size < 2:
            return None
        model = LogisticRegression(max_iter=300).fit(design, labels, sample_weight=weights)
        coef, intercept = np.asarray(model.coef_, dtype=np.float64), np.asarray(model.intercept_, dtype=np.float64)
        if loss == "log_loss" and model.classes_.size < n_outputs:
            # A class absent from these rows: its logit starts far below the others.
            full_coef = np.zeros((n_outputs, coef.shape[1]))
            full_intercept = np.full(n_outputs, intercept.min() - 10.0 if intercept.size else 0.0)
            if model.classes_.size == 2:
                coef, intercept = np.vstack([-coef / 2, coef / 2]), np.array([-intercept[0] / 2, intercept[0] / 2])
            full_coef[model.classes_], full_intercept[model.classes_] = coef, intercept
            coef, intercept = full_coef, full_intercept
    n_features = X_scaled.shape[1]
    slopes = np.zeros((n_features, n_outputs))
    missing_values = np.zeros((n_features, n_outputs))
    category_values = np.zeros((n_features, n_outputs, max(n_categories, default=0) + 1))
    for column, (kind, i, code) in enumerate(meaning):
        if kind == "slope":
            slopes[i] = coef[:, column]
        elif kind == "missing":
            missing_values[i] = coef[:, column]
        else:
            category_values[i, :, code] = coef[:, column]
    return LinearStart(slopes, intercept, missing_values, category_values)


def _linear_regression(design, targets, weights, loss):
    """Coefficients (n_outputs, n_columns) and intercepts (n_outputs,) of the linear start for a regression loss."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import GammaRegressor, PoissonRegressor, Ridge

    if loss.log_link:
        glm = PoissonRegressor if loss.name == "poisson" else GammaRegressor
        coef, intercept = [], []
        for column in targets.T:
            with warnings.catch_warnings():
                # A start, not a result: a few unfinished iterations cost nothing that training does not fix.
                warnings.simplefilter("ignore", ConvergenceWarning)
                model = glm(alpha=1.0 / targets.shape[0], max_iter=300).fit(design, column, sample_weight=weights)
            coef.append(model.coef_)
            intercept.append(model.intercept_)
        return np.array(coef, dtype=np.float64).reshape(targets.shape[1], -1), np.array(intercept, dtype=np.float64)
    model = Ridge(alpha=1.0).fit(design, targets, sample_weight=weights)
    coef = np.asarray(model.coef_, dtype=np.float64).reshape(targets.shape[1], -1)
    intercept = np.asarray(model.intercept_, dtype=np.float64).reshape(targets.shape[1])
    if loss.name != "squared_error":
        residuals = targets - design @ coef.T
        intercept = target_prior(residuals, weights, loss)
    return coef, intercept
