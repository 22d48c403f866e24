"""Losses of a network's predictions: the weighted prediction loss, the training objective, reference losses."""

import torch
from torch import nn

from .regularization import smoothness_penalty, sparsity_penalty

__all__ = [
    "constant_prediction_loss",
    "evaluation_loss",
    "loss_advantage",
    "objective",
    "per_sample_loss",
    "prediction_loss",
]

# Rows per forward pass when a loss is evaluated without gradients.
_EVALUATION_CHUNK_ROWS = 65_536


def per_sample_loss(output, target, loss):
    """Unweighted loss of each row (shape (batch,)), for ``loss`` as in :func:`prediction_loss`.

    An ``output`` of shape (batch, n_members, n_outputs) holds the outputs
    of an ensemble's members: each is scored on its own and the row's loss
    is their mean.
    """
    if output.dim() == 3:
        if loss == "squared_error":
            return (output - target[:, None, :]).square().mean(dim=(1, 2))
        if loss == "log_loss":
            members = target[:, None].expand(-1, output.shape[1])
            return nn.functional.cross_entropy(output.transpose(1, 2), members, reduction="none").mean(dim=1)
        if loss == "binary_log_loss":
            members = target[:, None].expand(-1, output.shape[1])
            return nn.functional.binary_cross_entropy_with_logits(output[..., 0], members, reduction="none").mean(1)
    if loss == "squared_error":
        return (output - target).square().mean(dim=1)
    if loss == "log_loss":
        return nn.functional.cross_entropy(output, target, reduction="none")
    if loss == "binary_log_loss":
        return nn.functional.binary_cross_entropy_with_logits(output[:, 0], target, reduction="none")
    raise ValueError(f"Unknown loss {loss!r}.")


def prediction_loss(output, target, weights, loss):
    """Weighted mean loss of a batch.

    Parameters
    ----------
    output : torch.Tensor of shape (batch, n_outputs)
    target : torch.Tensor
        Float targets of the output's shape for ``"squared_error"``, class
        indices for ``"log_loss"``, 0/1 floats for ``"binary_log_loss"``.
    weights : torch.Tensor of shape (batch,)
    loss : {"squared_error", "log_loss", "binary_log_loss"}
    """
    return (weights * per_sample_loss(output, target, loss)).sum() / weights.sum()


def evaluation_loss(network, x, target, weights, loss):
    """Weighted mean loss of ``network`` on ``x`` without gradients, in bounded chunks (a tensor)."""
    total = torch.zeros((), dtype=weights.dtype, device=weights.device)
    with torch.no_grad():
        for start in range(0, x.shape[0], _EVALUATION_CHUNK_ROWS):
            rows = slice(start, start + _EVALUATION_CHUNK_ROWS)
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


def constant_prediction_loss(target, weights, loss):
    """Loss of the best constant prediction: the weighted variance, or the entropy of the class frequencies."""
    share = weights / weights.sum()
    if loss == "squared_error":
        mean = share @ target
        return share @ (target - mean).square().mean(dim=1)
    if loss == "log_loss":
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
