"""Regression targets in the units the network trains in, for each loss of :class:`KANRegressor`.

The network never sees raw targets:

* squared error: targets are standardised (weighted mean and standard
  deviation), so learning rates and the output layer's start suit any units;
* absolute error, Huber and quantile loss: targets are centred on their
  weighted median and divided by a robust scale (the weighted interquartile
  range over 1.349, which equals the standard deviation for normal data), so
  a few extreme targets do not squash the bulk of the data into a sliver.
  These losses are equivariant under such a change of units, so the fit is
  the same model as one in the original units;
* Poisson and Gamma deviance (log link): targets are divided by their
  weighted mean and the network predicts the log of the scaled mean, so
  ``predict`` is ``scale * exp(output)``. Both deviances only change by a
  constant factor under that division.

The fitted loss is kept as plain data (:func:`loss_state`), which the
estimator saves and :func:`loss_from_state` turns back into an engine
:class:`~skkan._engine.losses.Loss`.
"""

import math

import numpy as np
import torch

from ._engine.losses import LOG_LINK_LOSSES, REGRESSION_LOSSES, Loss, best_constant_output, weighted_quantile
from ._scaling import _weighted_mean_and_scale

__all__ = [
    "check_regression_targets",
    "fit_target_scaling",
    "loss_from_state",
    "loss_state",
    "regression_loss",
    "target_prior",
]

# Huber's threshold for huber_delta="auto", in robust standard deviations of
# the targets: scikit-learn's HuberRegressor default, 95% efficient on normal noise.
_AUTO_HUBER_DELTA = 1.35
# The interquartile range of a normal distribution in standard deviations.
_NORMAL_IQR = 1.349
_ROBUST_LOSSES = ("absolute_error", "huber", "quantile")


def check_regression_targets(y_2d, sample_weight, loss):
    """Raise a ValueError naming ``loss`` when targets ``y_2d`` (finite floats) are outside its domain.

    As in :class:`~sklearn.ensemble.HistGradientBoostingRegressor`: Poisson
    deviance needs non-negative targets whose weighted sum is positive,
    Gamma deviance strictly positive targets.
    """
    if loss == "poisson":
        if np.any(y_2d < 0):
            raise ValueError(
                f"loss='poisson' needs non-negative targets y, but y has negative values such as {y_2d.min():g}."
            )
        if not np.all(np.asarray(sample_weight) @ y_2d > 0):
            raise ValueError("loss='poisson' needs targets y with a positive (weighted) sum; here it is 0.")
    elif loss == "gamma" and np.any(y_2d <= 0):
        raise ValueError(
            f"loss='gamma' needs strictly positive targets y, but y has values <= 0 such as {y_2d.min():g}."
        )


def fit_target_scaling(y_2d, sample_weight, loss):
    """Per-output ``(centre, scale)`` turning targets into training units, as the module docstring says."""
    if loss in LOG_LINK_LOSSES:
        scale = np.average(y_2d, axis=0, weights=sample_weight)
        return np.zeros(y_2d.shape[1]), scale
    mean, scale = _weighted_mean_and_scale(y_2d, sample_weight)
    if loss not in _ROBUST_LOSSES:
        return mean, scale
    values, share = torch.tensor(y_2d), torch.tensor(sample_weight / np.sum(sample_weight))
    quartiles = [weighted_quantile(values, share, level).numpy() for level in (0.25, 0.5, 0.75)]
    spread = (quartiles[2] - quartiles[0]) / _NORMAL_IQR
    # Targets that are mostly one value (a zero IQR) keep the standard deviation as their scale.
    tiny = np.finfo(np.float64).eps * np.maximum(np.abs(quartiles[1]), 1.0) * 100
    return quartiles[1], np.where(spread > tiny, spread, scale)


def regression_loss(loss, scale, quantile=None, huber_delta="auto"):
    """The engine :class:`Loss` for the estimator's ``loss`` parameters, in the training units of ``scale``.

    Raises
    ------
    ValueError
        If ``loss="quantile"`` comes without a ``quantile``.
    """
    if loss == "quantile":
        if quantile is None:
            raise ValueError("loss='quantile' needs the quantile to predict: set quantile to a number in (0, 1).")
        return Loss("quantile", quantile=float(quantile))
    if loss == "huber":
        if huber_delta == "auto":
            delta = np.full(len(scale), _AUTO_HUBER_DELTA)
        else:
            delta = float(huber_delta) / np.asarray(scale, dtype=np.float64)
        # A threshold beyond the float range acts as squared error; it must stay finite to compute with.
        delta = np.minimum(delta, np.finfo(np.float64).max / 4)
        return Loss("huber", delta=tuple(float(d) for d in delta))
    return Loss(loss)


def target_prior(targets, sample_weight, loss):
    """The best constant network output for training ``targets`` under ``loss``, float64 (n_outputs,)."""
    # Copies: read-only (memory-mapped) arrays make no tensors.
    constant = best_constant_output(
        torch.tensor(targets, dtype=torch.float64), torch.tensor(sample_weight, dtype=torch.float64), loss
    )
    return constant.numpy()


def loss_state(loss):
    """A fitted :class:`Loss` as plain data (str, float or None, list of float or None)."""
    return {"name": loss.name, "quantile": loss.quantile, "delta": None if loss.delta is None else list(loss.delta)}


def loss_from_state(state, n_outputs):
    """The :class:`Loss` that :func:`loss_state` wrote, checked; a ValueError says what is wrong."""
    if type(state) is not dict or set(state) != {"name", "quantile", "delta"}:
        raise ValueError("the fitted loss must be a dict with the keys 'name', 'quantile' and 'delta'.")
    name, quantile, delta = state["name"], state["quantile"], state["delta"]
    if type(name) is not str or name not in REGRESSION_LOSSES:
        raise ValueError(f"unknown regression loss {name!r}.")
    if quantile is not None and (type(quantile) is not float or not math.isfinite(quantile)):
        raise ValueError("the loss's quantile must be a float or None.")
    if delta is not None:
        if type(delta) is not list or len(delta) != n_outputs or any(type(d) is not float for d in delta):
            raise ValueError(f"the loss's delta must be a list of {n_outputs} float(s) or None.")
        delta = tuple(delta)
    return Loss(name, quantile=quantile, delta=delta)
