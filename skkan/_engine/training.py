"""The training loop: optimiser steps, grid schedule, early stopping, divergence guard.

The loop knows nothing about scikit-learn: it receives tensors, a
:class:`TrainingConfig` and, for early stopping, an opaque ``score_fn``
(higher is better) evaluated on held-out data by the caller.
"""

import copy
import math
from dataclasses import dataclass, field

import torch
from torch import nn

from ..exceptions import TrainingDivergedError
from .regularization import smoothness_penalty, sparsity_penalty

__all__ = ["TrainingConfig", "TrainingResult", "TrainingDivergedError", "train_network", "prediction_loss"]

# Rows used to re-place knots: quantiles of a random subset are accurate
# enough and keep each grid update cheap on large data sets.
_GRID_UPDATE_ROWS = 20_000


@dataclass
class TrainingConfig:
    """Everything that drives one training run (see the estimators' docs)."""

    loss: str
    optimizer: str = "adam"
    learning_rate: float = 1e-2
    max_iter: int = 200
    batch_size: int = 512
    extra_grid_sizes: tuple = ()
    grid_eps: float = 0.02
    grid_update_every: int = 5
    grid_update_until: int = 50
    lamb: float = 0.0
    lamb_l1: float = 1.0
    lamb_entropy: float = 2.0
    lamb_smoothness: float = 0.0
    tol: float = 1e-4
    n_iter_no_change: int = 10
    early_stopping: bool = False
    grad_clip: float = 10.0
    lbfgs_inner_iter: int = 20
    verbose: int = 0


@dataclass
class TrainingResult:
    """What a training run produced."""

    network: nn.Module
    loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_loss: float = math.inf
    best_validation_score: float = -math.inf
    n_iter: int = 0
    converged: bool = False
    diverged: bool = False
    interrupted: bool = False


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
    if loss == "squared_error":
        per_sample = (output - target).square().mean(dim=1)
    elif loss == "log_loss":
        per_sample = nn.functional.cross_entropy(output, target, reduction="none")
    elif loss == "binary_log_loss":
        per_sample = nn.functional.binary_cross_entropy_with_logits(output[:, 0], target, reduction="none")
    else:
        raise ValueError(f"Unknown loss {loss!r}.")
    return (weights * per_sample).sum() / weights.sum()


def _objective(network, x, target, weights, config):
    if config.lamb > 0:
        output, inputs, edges = network.forward_with_edges(x)
        normalised = weights / weights.sum()
        penalty = sparsity_penalty(inputs, edges, normalised, config.lamb_l1, config.lamb_entropy)
        value = prediction_loss(output, target, weights, config.loss) + config.lamb * penalty
    else:
        value = prediction_loss(network(x), target, weights, config.loss)
    if config.lamb_smoothness > 0:
        value = value + config.lamb_smoothness * smoothness_penalty(network)
    return value


def _make_optimizer(network, config):
    if config.optimizer == "lbfgs":
        return torch.optim.LBFGS(
            network.parameters(),
            lr=config.learning_rate,
            max_iter=config.lbfgs_inner_iter,
            history_size=10,
            line_search_fn="strong_wolfe",
            tolerance_grad=1e-12,
            tolerance_change=1e-14,
        )
    return torch.optim.Adam(network.parameters(), lr=config.learning_rate)


def _adam_epoch(network, optimizer, x, target, weights, config, generator):
    n_samples = x.shape[0]
    order = torch.randperm(n_samples, generator=generator).to(x.device)
    total = torch.zeros((), dtype=x.dtype, device=x.device)
    for start in range(0, n_samples, config.batch_size):
        batch = order[start : start + config.batch_size]
        batch_weights = weights[batch]
        optimizer.zero_grad(set_to_none=True)
        value = _objective(network, x[batch], target[batch], batch_weights, config)
        value.backward()
        if config.grad_clip:
            nn.utils.clip_grad_norm_(network.parameters(), config.grad_clip)
        optimizer.step()
        total = total + value.detach() * batch_weights.sum()
    # One host sync per epoch, not per batch.
    return float(total / weights.sum())


def _lbfgs_iteration(network, optimizer, x, target, weights, config):
    def closure():
        optimizer.zero_grad(set_to_none=True)
        value = _objective(network, x, target, weights, config)
        value.backward()
        return value

    optimizer.step(closure)
    with torch.no_grad():
        return float(_objective(network, x, target, weights, config))


def _grid_rows(x, weights, generator):
    if x.shape[0] <= _GRID_UPDATE_ROWS:
        return x, weights
    rows = torch.randperm(x.shape[0], generator=generator)[:_GRID_UPDATE_ROWS].to(x.device)
    return x[rows], weights[rows]


class _Progress:
    """Tracks improvement the way scikit-learn's MLP does (tol, n_iter_no_change)."""

    def __init__(self, config):
        self.config = config
        self.reset()

    def reset(self):
        self.best_loss = math.inf
        self.best_score = -math.inf
        self.no_improvement = 0

    def update(self, loss, score):
        """Record one iteration; return True when it is the best so far."""
        tol = self.config.tol
        if self.config.early_stopping:
            improved = score > self.best_score
            self.no_improvement = self.no_improvement + 1 if score < self.best_score + tol else 0
            self.best_score = max(self.best_score, score)
        else:
            # Relative to the loss: an accurate fit keeps improving in absolute
            # steps far below any fixed ``tol`` (the accuracy of a KAN on smooth
            # targets comes from exactly those late iterations).
            improved = loss < self.best_loss
            threshold = self.best_loss * (1.0 - tol) if math.isfinite(self.best_loss) else math.inf
            self.no_improvement = self.no_improvement + 1 if loss > threshold else 0
        self.best_loss = min(self.best_loss, loss)
        return improved

    @property
    def stalled(self):
        return self.no_improvement > self.config.n_iter_no_change


def train_network(network, x, target, weights, config, *, generator, score_fn=None):
    """Train ``network`` in place through the grid schedule.

    Parameters
    ----------
    network : KANNetwork
        The network to train (already on the device of ``x``).
    x : torch.Tensor of shape (n_samples, n_features)
    target : torch.Tensor
        Targets in the form :func:`prediction_loss` expects.
    weights : torch.Tensor of shape (n_samples,)
        Non-negative sample weights with a positive sum.
    config : TrainingConfig
    generator : torch.Generator
        CPU generator driving shuffling and grid subsampling.
    score_fn : callable, optional
        ``score_fn(network) -> float`` on validation data; required when
        ``config.early_stopping``.

    Returns
    -------
    TrainingResult
        With early stopping, ``network`` is the state with the best
        validation score. After divergence or an interrupt, it is the best
        state seen so far.

    Raises
    ------
    TrainingDivergedError
        If the loss is not finite before any finite iteration completed.
    """
    result = TrainingResult(network=network)
    progress = _Progress(config)
    best_network = None
    stage_sizes = [network.grid_size, *config.extra_grid_sizes]
    try:
        for stage, grid_size in enumerate(stage_sizes):
            if stage > 0 and config.early_stopping and best_network is not None:
                # The finer grid starts from the best coarse state.
                network = copy.deepcopy(best_network)
            network.update_grids(*_grid_rows(x, weights, generator), grid_size=grid_size, grid_eps=config.grid_eps)
            optimizer = _make_optimizer(network, config)
            progress.reset()
            stage_converged = False
            for iteration in range(config.max_iter):
                if 0 < iteration < config.grid_update_until and iteration % config.grid_update_every == 0:
                    network.update_grids(*_grid_rows(x, weights, generator), grid_eps=config.grid_eps)
                    if config.optimizer == "lbfgs":
                        # Curvature pairs from the old knots no longer apply.
                        optimizer = _make_optimizer(network, config)
                if config.optimizer == "lbfgs":
                    loss = _lbfgs_iteration(network, optimizer, x, target, weights, config)
                else:
                    loss = _adam_epoch(network, optimizer, x, target, weights, config, generator)
                if not math.isfinite(loss):
                    if best_network is None:
                        raise TrainingDivergedError(
                            f"The training loss became {loss} at iteration {result.n_iter + 1} before any "
                            "finite iteration; lower learning_rate or check the data for extreme values."
                        )
                    result.diverged = True
                    network = best_network
                    return result
                result.n_iter += 1
                result.loss_curve.append(loss)
                score = None
                if config.early_stopping:
                    score = float(score_fn(network))
                    result.validation_scores.append(score)
                if progress.update(loss, score) or best_network is None:
                    best_network = copy.deepcopy(network)
                result.best_loss = min(result.best_loss, loss)
                if score is not None:
                    result.best_validation_score = max(result.best_validation_score, score)
                if config.verbose:
                    message = f"Grid {grid_size}, iteration {result.n_iter}, loss = {loss:.8f}"
                    if score is not None:
                        message += f", validation score = {score:.6f}"
                    print(message, flush=True)
                if progress.stalled:
                    stage_converged = True
                    break
            if config.early_stopping:
                network = best_network
            result.converged = stage_converged
    except KeyboardInterrupt:
        result.interrupted = True
        if best_network is not None:
            network = best_network
    finally:
        result.network = network
    return result
