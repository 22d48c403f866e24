"""Losses of a network's predictions: the weighted prediction loss, the training objective, reference losses.

A :class:`Loss` names the loss and holds its parameters. Regression losses
read float targets of the output's shape (in the scaled units the estimator
trains in); ``"poisson"`` and ``"gamma"`` read the outputs as the log of the
mean (a log link). Classification losses read class indices
(``"log_loss"``) or 0/1 floats (``"binary_log_loss"``).
"""

import math
from dataclasses import dataclass

import torch
from torch import nn

from .regularization import smoothness_penalty, sparsity_penalty

__all__ = [
    "Loss",
    "best_constant_output",
    "calibrate_quantile_output",
    "weighted_quantile",
    "constant_prediction_loss",
    "evaluation_loss",
    "loss_advantage",
    "objective",
    "per_sample_loss",
    "prediction_loss",
]

# Rows per forward pass when a loss is evaluated without gradients.
_EVALUATION_CHUNK_ROWS = 65_536
# Iteratively reweighted means that find Huber's best constant from the median (each halves the error or better).
_HUBER_LOCATION_ITERATIONS = 50

REGRESSION_LOSSES = ("squared_error", "absolute_error", "huber", "quantile", "poisson", "gamma")
CLASSIFICATION_LOSSES = ("log_loss", "binary_log_loss")
LOG_LINK_LOSSES = ("poisson", "gamma")


@dataclass(frozen=True)
class Loss:
    """A prediction loss and its parameters.

    Parameters
    ----------
    name : str
        One of ``REGRESSION_LOSSES`` or ``CLASSIFICATION_LOSSES``.
    quantile : float or None
        The quantile level in (0, 1) of ``"quantile"`` (pinball) loss.
    delta : tuple of float or None
        Huber's threshold per output, in the units of the targets: residuals
        within it are squared, larger ones count linearly.
    """

    name: str
    quantile: float | None = None
    delta: tuple | None = None

    def __post_init__(self):
        if self.name not in REGRESSION_LOSSES + CLASSIFICATION_LOSSES:
            raise ValueError(f"Unknown loss {self.name!r}.")
        if self.name == "quantile" and not (self.quantile is not None and 0 < self.quantile < 1):
            raise ValueError(f"The quantile loss needs a quantile in (0, 1), got {self.quantile!r}.")
        if self.name == "huber" and not (self.delta and all(d > 0 and math.isfinite(d) for d in self.delta)):
            raise ValueError(f"The Huber loss needs positive finite deltas, got {self.delta!r}.")

    @property
    def is_classification(self):
        """Whether the targets are class labels (indices or 0/1)."""
        return self.name in CLASSIFICATION_LOSSES

    @property
    def log_link(self):
        """Whether the outputs are the log of the predicted mean."""
        return self.name in LOG_LINK_LOSSES

    def target_dtype(self, dtype):
        """The torch dtype of this loss's targets, for a network of ``dtype``."""
        return torch.long if self.name == "log_loss" else dtype


def _regression_loss(output, target, loss):
    """Elementwise loss of ``output`` against ``target`` (broadcast to the same shape)."""
    name = loss.name
    if name == "squared_error":
        return (output - target).square()
    if name == "absolute_error":
        return (output - target).abs()
    if name == "quantile":
        residual = target - output
        return torch.maximum(loss.quantile * residual, (loss.quantile - 1) * residual)
    if name == "huber":
        delta = torch.as_tensor(loss.delta, dtype=output.dtype, device=output.device)
        distance = (output - target).abs()
        return torch.where(distance <= delta, 0.5 * distance.square(), delta * (distance - 0.5 * delta))
    if name == "poisson":
        # Half the Poisson deviance: zero at output = log(target).
        return torch.exp(output) - target * output + torch.special.xlogy(target, target) - target
    # Half the Gamma deviance: zero at output = log(target).
    return output + target * torch.exp(-output) - torch.log(target) - 1


def per_sample_loss(output, target, loss):
    """Unweighted loss of each row (shape (batch,)) for a :class:`Loss`.

    An ``output`` of shape (batch, n_members, n_outputs) holds the outputs
    of an ensemble's members: each is scored on its own and the row's loss
    is their mean.
    """
    members = output.dim() == 3
    if loss.name == "log_loss":
        if members:
            labels = target[:, None].expand(-1, output.shape[1])
            return nn.functional.cross_entropy(output.transpose(1, 2), labels, reduction="none").mean(dim=1)
        return nn.functional.cross_entropy(output, target, reduction="none")
    if loss.name == "binary_log_loss":
        if members:
            labels = target[:, None].expand(-1, output.shape[1])
            return nn.functional.binary_cross_entropy_with_logits(output[..., 0], labels, reduction="none").mean(1)
        return nn.functional.binary_cross_entropy_with_logits(output[:, 0], target, reduction="none")
    return _regression_loss(output, target[:, None, :] if members else target, loss).flatten(1).mean(dim=1)


def prediction_loss(output, target, weights, loss):
    """Weighted mean loss of a batch.

    Parameters
    ----------
    output : torch.Tensor of shape (batch, n_outputs)
    target : torch.Tensor
        Float targets of the output's shape for a regression loss, class
        indices for ``"log_loss"``, 0/1 floats for ``"binary_log_loss"``.
    weights : torch.Tensor of shape (batch,)
    loss : Loss
    """
    return (weights * per_sample_loss(output, target, loss)).sum() / weights.sum()


def _row_chunks(n_rows):
    """Slices of at most ``_EVALUATION_CHUNK_ROWS`` rows covering ``n_rows``, for forward passes without gradients."""
    return [slice(start, start + _EVALUATION_CHUNK_ROWS) for start in range(0, n_rows, _EVALUATION_CHUNK_ROWS)]


def evaluation_loss(network, x, target, weights, loss):
    """Weighted mean loss of ``network`` on ``x`` without gradients, in bounded chunks (a tensor)."""
    total = torch.zeros((), dtype=weights.dtype, device=weights.device)
    with torch.no_grad():
        for rows in _row_chunks(x.shape[0]):
            total += (weights[rows] * per_sample_loss(network(x[rows]), target[rows], loss)).sum()
    return total / weights.sum()


def loss_advantage(network, reference, x, target, weights, loss):
    """How much lower ``network``'s loss is than ``reference``'s on the same rows, and its standard error.

    Returns ``(advantage, standard_error)`` as floats: the weighted mean of
    the per-row differences ``loss(reference) - loss(network)`` (positive
    when ``network`` is better) and the standard error of that mean (the
    rows' paired differences, weighted). An advantage within about one
    standard error is one a validation split cannot tell from noise.
    """
    with torch.no_grad():
        difference = per_sample_loss(reference(x), target, loss) - per_sample_loss(network(x), target, loss)
    share = weights / weights.sum()
    advantage = share @ difference
    standard_error = torch.sqrt(share.square() @ (difference - advantage).square())
    return float(advantage), float(standard_error)


def weighted_quantile(target, share, level):
    """Per-column weighted quantile of ``target`` (n, n_outputs) with row shares ``share`` summing to one.

    The smallest value whose cumulative share reaches ``level`` (the
    inverse of the weighted empirical distribution function).
    """
    values, order = torch.sort(target, dim=0)
    cumulative = torch.cumsum(share[order], dim=0)
    # Rounding may leave the last cumulative share a hair below one.
    index = torch.searchsorted(cumulative.T.contiguous(), torch.full_like(cumulative[:1].T, level * (1 - 1e-12)))
    index = index.clamp(max=target.shape[0] - 1).T
    return values.gather(0, index)[0]


def _huber_location(target, share, delta):
    """Per-column minimiser of the weighted Huber loss: reweighted means started at the median."""
    location = weighted_quantile(target, share, 0.5)
    for _ in range(_HUBER_LOCATION_ITERATIONS):
        distance = (target - location).abs()
        # Each row's weight in the mean: 1 within delta, delta / distance beyond (its influence is capped).
        reweight = share[:, None] * torch.clamp(delta / distance.clamp(min=torch.finfo(target.dtype).tiny), max=1.0)
        location = (reweight * target).sum(dim=0) / reweight.sum(dim=0)
    return location


def best_constant_output(target, weights, loss):
    """The network output that minimises a regression ``loss`` among constants, shape (n_outputs,).

    The weighted mean for squared error, the weighted median for absolute
    error, the weighted quantile for quantile loss, Huber's location
    estimate for Huber loss and the log of the weighted mean for the
    log-link losses (Poisson and Gamma).
    """
    share = weights / weights.sum()
    if loss.name == "squared_error":
        return share @ target
    if loss.name == "absolute_error":
        return weighted_quantile(target, share, 0.5)
    if loss.name == "quantile":
        return weighted_quantile(target, share, loss.quantile)
    if loss.name == "huber":
        return _huber_location(target, share, torch.as_tensor(loss.delta, dtype=target.dtype, device=target.device))
    if loss.log_link:
        return torch.log(share @ target)
    raise ValueError(f"{loss.name!r} is not a regression loss.")


def calibrate_quantile_output(network, x, target, weights, loss):
    """Shift a quantile network's output bias so that a share ``loss.quantile`` of the rows lie at or below it.

    The shift is the weighted quantile of the rows' residuals, the best
    constant correction of the pinball loss on them: on held-out rows this
    is split-conformal calibration of a one-sided quantile, which makes
    the coverage on new rows match the level up to the sampling error of
    those rows, where a fit that over- or underfits its training rows
    would be off by more (a few points on 10,000 rows).
    """
    with torch.no_grad():
        output = torch.cat([network(x[rows]) for rows in _row_chunks(x.shape[0])])
        shift = weighted_quantile(target - output, weights / weights.sum(), loss.quantile)
        network.layers[-1].bias.add_(shift.repeat(network.ensemble_size))


def constant_prediction_loss(target, weights, loss):
    """Loss of the best constant prediction (:func:`best_constant_output`), or the entropy of the class frequencies."""
    share = weights / weights.sum()
    if not loss.is_classification:
        constant = best_constant_output(target, weights, loss)
        return share @ per_sample_loss(constant.expand_as(target), target, loss)
    if loss.name == "log_loss":
        frequencies = torch.bincount(target, weights=share)
    else:
        positive = share @ target
        frequencies = torch.stack([1 - positive, positive])
    return -torch.special.xlogy(frequencies, frequencies).sum()


def _single(members):
    """Member outputs (batch, n_members, n_outputs) as (batch, n_outputs) when there is one member."""
    return members[:, 0] if members.shape[1] == 1 else members


def objective(network, x, target, weights, config):
    """Training objective: the weighted prediction loss plus the penalties ``config`` asks for."""
    # Each member of an ensemble is trained on its own loss (their mean), not on the mean output.
    if config.lamb > 0:
        packed, inputs, edges = network.forward_with_edges(x)
        output = network.members(packed)
        normalised = weights / weights.sum()
        penalty = sparsity_penalty(inputs, edges, normalised, config.lamb_l1, config.lamb_entropy)
        value = prediction_loss(_single(output), target, weights, config.loss) + config.lamb * penalty
    else:
        value = prediction_loss(_single(network.member_outputs(x)), target, weights, config.loss)
    if config.lamb_smoothness > 0:
        value = value + config.lamb_smoothness * smoothness_penalty(network)
    return value
