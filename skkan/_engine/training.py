"""The training loop: optimiser steps, grid schedule, early stopping, divergence guard.

The loop knows nothing about scikit-learn: it receives tensors and a
:class:`TrainingConfig`, and, for early stopping, held-out validation
tensors that it scores with the training loss.

Each epoch ends with a *monitor loss* measured exactly on the parameters
the epoch ended with: the validation loss with early stopping, the
full-batch objective after an L-BFGS iteration, and otherwise the loss on a
fixed subsample of the training rows (the running mean of mini-batch losses
mixes the states an epoch went through, so it cannot vouch for the last
one). The best state is chosen by that loss, and kept only when it and the
parameters are finite, so a restored state is always a sound one.
"""

import math
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from ..exceptions import TrainingDivergedError
from .losses import Loss, constant_prediction_loss, evaluation_loss, objective, prediction_loss
from .steps import adam_epoch, grid_rows, lbfgs_iteration, make_optimizer

__all__ = ["TrainingConfig", "TrainingResult", "TrainingDivergedError", "train_network", "prediction_loss"]

# Training rows whose loss vouches for the end-of-epoch state of mini-batch
# training without early stopping: a forward pass on them costs a few per
# cent of an epoch on data large enough for mini-batches to matter.
_MONITOR_ROWS = 1024
# An epoch whose monitor loss exceeds this multiple of the reference loss
# (the larger of the starting state's loss and the best constant
# prediction's) has diverged: no sound training step makes a model ten times
# worse than predicting the mean (or the class frequencies).
_DIVERGENCE_FACTOR = 10.0
# Factor of each learning-rate decay of the plateau schedule: scikit-learn's
# MLP (learning_rate="adaptive") divides by 5 too; three decays end at 1/125
# of the starting rate, small enough for Adam's last steps to settle.
_LEARNING_RATE_DECAY = 0.2


@dataclass
class TrainingConfig:
    """Everything that drives one training run (see the estimators' docs).

    ``callback``, when given, is called once per epoch with a dict:

    ``stage`` (int)
        Index of the grid stage, 0 for the initial grid.
    ``grid_size`` (int)
        Grid intervals of that stage.
    ``epoch`` (int)
        Epoch within the stage, from 1.
    ``max_epochs`` (int)
        ``max_iter``, the most epochs a stage runs.
    ``train_loss`` (float)
        Training objective of the epoch (``loss_curve`` entry).
    ``validation_loss`` (float or None)
        Weighted validation loss with early stopping, else None.
    ``learning_rate`` (float)
        Learning rate of the epoch (Adam's falls on plateaus, see
        ``learning_rate_decays``).
    ``elapsed`` (float)
        Seconds since training started.

    An exception raised by the callback propagates; a ``KeyboardInterrupt``
    is handled like Ctrl-C (see :func:`train_network`).

    ``learning_rate_decays`` is the plateau schedule of Adam: when the
    monitored loss has not improved by a relative ``tol`` for
    ``n_iter_no_change`` epochs (``plateau_patience`` when given), the
    learning rate is divided by 5 and training goes on (from the best
    validated state, with early stopping), up to that many times; the next
    plateau ends the stage. 0 keeps the learning rate constant (L-BFGS
    ignores it: its line search sets the step).

    ``keep_start`` (with early stopping): the starting state competes for
    the best validated state, so a network started at a linear model ends
    validating at least as well as that model.
    """

    loss: Loss
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
    learning_rate_decays: int = 0
    plateau_patience: int = None
    early_stopping: bool = False
    keep_start: bool = False
    grad_clip: float = 10.0
    lbfgs_inner_iter: int = 20
    verbose: int = 0
    callback: object = None


@dataclass
class TrainingResult:
    """What a training run produced.

    ``validation_scores`` holds the negative validation loss of every epoch
    with early stopping (higher is better, as scikit-learn's MLP scores);
    ``start_loss`` is the monitor loss of the starting state (the validation
    loss with early stopping).
    """

    network: nn.Module
    loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_loss: float = math.inf
    best_validation_score: float = -math.inf
    start_loss: float = math.nan
    n_iter: int = 0
    converged: bool = False
    diverged: bool = False
    interrupted: bool = False


def _monitor_rows(x, target, weights, generator):
    if x.shape[0] <= _MONITOR_ROWS:
        return x, target, weights
    rows = torch.randperm(x.shape[0], generator=generator)[:_MONITOR_ROWS].to(x.device)
    return x[rows], target[rows], weights[rows]


def _largest_parameter(network):
    """Largest absolute parameter value (a tensor; NaN or inf when a parameter is not finite)."""
    return torch.stack(torch._foreach_norm(list(network.parameters()), ord=math.inf)).max()


class _Snapshot:
    """A copy of a network's state, in buffers allocated once per shape.

    Saving copies into the buffers (no allocation, no ``deepcopy``);
    restoring copies back, or replaces a parameter whose shape changed since
    (a grid extension after the snapshot was taken).
    """

    def __init__(self):
        self.tensors = None
        self.loss = math.inf

    @property
    def saved(self):
        return self.tensors is not None

    def save(self, network, loss):
        state = network.state_dict()
        reusable = self.tensors is not None and self.tensors.keys() == state.keys()
        if reusable and all(self.tensors[k].shape == v.shape for k, v in state.items()):
            with torch.no_grad():
                for name, value in state.items():
                    self.tensors[name].copy_(value)
        else:
            self.tensors = {name: value.detach().clone() for name, value in state.items()}
        self.loss = loss

    def restore(self, network):
        current = network.state_dict()
        with torch.no_grad():
            for name, value in self.tensors.items():
                if name in current and current[name].shape == value.shape:
                    current[name].copy_(value)
                    continue
                owner, _, attribute = name.rpartition(".")
                module = network.get_submodule(owner)
                if attribute in module._parameters:
                    setattr(module, attribute, nn.Parameter(value.clone()))
                else:
                    setattr(module, attribute, value.clone())


# The smallest loss scale of :class:`_Progress`'s relative improvement for log losses (nats).
_LOG_LOSS_SCALE = 1e-2


class _Progress:
    """Tracks improvement the way scikit-learn's MLP does (tol, n_iter_no_change).

    The improvement is relative to the loss: an accurate fit keeps improving
    in absolute steps far below any fixed ``tol`` (the accuracy of a KAN on
    smooth targets comes from exactly those late iterations). A log loss is
    measured relative to at least ``_LOG_LOSS_SCALE`` nats: on separable
    classes it falls towards 0 forever, by a near-constant fraction an epoch,
    while the logits grow and the predictions no longer change (blobs: 1000
    epochs and a ConvergenceWarning, where 0.01 nats means the true class
    gets 99% on average).
    """

    def __init__(self, config):
        self.config = config
        self.patience = config.n_iter_no_change if config.plateau_patience is None else config.plateau_patience
        self.best = math.inf
        self.no_improvement = 0

    def update(self, loss):
        scale = max(self.best, _LOG_LOSS_SCALE if self.config.loss.is_classification else 0.0)
        threshold = self.best - self.config.tol * scale if math.isfinite(self.best) else math.inf
        self.no_improvement = self.no_improvement + 1 if loss > threshold else 0
        self.best = min(self.best, loss)

    @property
    def stalled(self):
        return self.no_improvement > self.patience


def _report(config, info, iteration):
    """Print the epoch's line (``verbose``) and pass ``info`` to the callback."""
    if config.verbose:
        message = f"Grid {info['grid_size']}, iteration {iteration}, loss = {info['train_loss']:.8f}"
        if info["validation_loss"] is not None:
            message += f", validation loss = {info['validation_loss']:.8f}"
        print(message, flush=True)
    if config.callback is not None:
        config.callback(info)


def train_network(network, x, target, weights, config, *, generator, validation=None):
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
        CPU generator driving shuffling and subsampling.
    validation : tuple of torch.Tensor, optional
        ``(x_val, target_val, weights_val)`` in the same forms; required when
        ``config.early_stopping``. Each grid stage then stops when the
        weighted validation loss has not improved by a relative ``tol`` for
        ``n_iter_no_change`` epochs. Each finer stage starts from the best
        validated state so far, and the network ends in the best validated
        state of the whole schedule, whichever grid it has.

    Returns
    -------
    TrainingResult
        Without early stopping, ``network`` ends in its last state. When an
        epoch diverges (a non-finite loss or parameter, or a loss ten times
        the reference, see ``_DIVERGENCE_FACTOR``), the best sound state is
        restored and ``diverged`` is set. On ``KeyboardInterrupt`` (Ctrl-C),
        the best state reached is restored and ``interrupted`` is set.

    Raises
    ------
    TrainingDivergedError
        If training diverged before any sound epoch completed.
    KeyboardInterrupt
        If interrupted before any epoch completed; ``network`` is then in
        an unspecified state.
    """
    if config.early_stopping and validation is None:
        raise ValueError("early_stopping needs validation data.")
    started = time.perf_counter()
    result = TrainingResult(network=network)
    best = _Snapshot()
    if config.early_stopping:
        monitor = validation
    elif config.optimizer == "lbfgs":
        monitor = None  # the objective after each iteration is exact already
    else:
        monitor = _monitor_rows(x, target, weights, generator)
    threshold = None
    stage_sizes = [network.grid_size, *config.extra_grid_sizes]
    try:
        for stage, grid_size in enumerate(stage_sizes):
            if stage > 0 and config.early_stopping:
                # The finer grid starts from the best state validated so far.
                best.restore(network)
            network.update_grids(*grid_rows(x, weights, generator), grid_size=grid_size, grid_eps=config.grid_eps)
            optimizer = make_optimizer(network, config)
            if threshold is None:
                data = (x, target, weights) if monitor is None else monitor
                start_loss = result.start_loss = _start_loss(network, config, data)
                threshold = _divergence_threshold(start_loss, config, data)
                if config.keep_start and config.early_stopping and math.isfinite(start_loss):
                    best.save(network, start_loss)
                    result.best_validation_score = -start_loss
            progress = _Progress(config)
            decays_left = config.learning_rate_decays if config.optimizer == "adam" else 0
            if not config.early_stopping:
                # Training losses on grids of different sizes do not compare:
                # each stage keeps its own best (sound) state. Validation
                # losses do, so with early stopping the best state is the
                # best over the whole schedule: a finer grid that only
                # overfits cannot replace a better coarse state.
                best.loss = math.inf
            stage_converged = False
            for epoch in range(1, config.max_iter + 1):
                if 1 < epoch <= config.grid_update_until and (epoch - 1) % config.grid_update_every == 0:
                    network.update_grids(*grid_rows(x, weights, generator), grid_eps=config.grid_eps)
                    if config.optimizer == "lbfgs":
                        # Curvature pairs from the old knots no longer apply.
                        optimizer = make_optimizer(network, config)
                if config.optimizer == "lbfgs":
                    train_loss = lbfgs_iteration(network, optimizer, x, target, weights, config)
                    monitor_loss = train_loss if not config.early_stopping else None
                else:
                    train_loss = adam_epoch(network, optimizer, x, target, weights, config, generator)
                    monitor_loss = None
                if monitor_loss is None:
                    monitor_loss = evaluation_loss(network, *monitor, config.loss)
                # The one host sync of the epoch.
                train_loss, monitor_loss, largest = torch.stack(
                    [train_loss.detach(), monitor_loss, _largest_parameter(network)]
                ).tolist()
                # NaN fails the comparison too.
                if not (math.isfinite(train_loss) and math.isfinite(largest) and monitor_loss <= threshold):
                    if not best.saved:
                        raise TrainingDivergedError(
                            f"Training diverged at iteration {result.n_iter + 1}, before any sound iteration "
                            f"completed (loss {monitor_loss:.6g} against a limit of {threshold:.6g}, largest "
                            f"parameter {largest:.3g}); lower learning_rate or check the data for extreme values."
                        )
                    best.restore(network)
                    result.diverged = True
                    return result
                result.n_iter += 1
                result.loss_curve.append(train_loss)
                result.best_loss = min(result.best_loss, train_loss)
                validation_loss = None
                if config.early_stopping:
                    validation_loss = monitor_loss
                    result.validation_scores.append(-validation_loss)
                    result.best_validation_score = max(result.best_validation_score, -validation_loss)
                if monitor_loss < best.loss or not best.saved:
                    best.save(network, monitor_loss)
                progress.update(validation_loss if config.early_stopping else train_loss)
                info = {
                    "stage": stage,
                    "grid_size": network.grid_size,
                    "epoch": epoch,
                    "max_epochs": config.max_iter,
                    "train_loss": train_loss,
                    "validation_loss": validation_loss,
                    "learning_rate": optimizer.param_groups[0]["lr"],
                    "elapsed": time.perf_counter() - started,
                }
                _report(config, info, result.n_iter)
                if progress.stalled and decays_left > 0:
                    decays_left -= 1
                    _decay_learning_rate(optimizer)
                    progress.no_improvement = 0
                    if config.early_stopping:
                        # Go on from the best validated state, not from where the plateau drifted.
                        best.restore(network)
                elif progress.stalled:
                    stage_converged = True
                    break
            if config.early_stopping:
                best.restore(network)
            result.converged = stage_converged
    except KeyboardInterrupt:
        if not best.saved or result.n_iter == 0:
            raise
        best.restore(network)
        result.interrupted = True
    return result


def _decay_learning_rate(optimizer):
    for group in optimizer.param_groups:
        group["lr"] = group["lr"] * _LEARNING_RATE_DECAY


def _start_loss(network, config, data):
    """The monitor loss of the starting state on ``data`` (``(x, target, weights)``), a float."""
    x, target, weights = data
    if config.early_stopping or config.optimizer != "lbfgs":
        return float(evaluation_loss(network, x, target, weights, config.loss))
    with torch.no_grad():
        return float(objective(network, x, target, weights, config))


def _divergence_threshold(start_loss, config, data):
    """Monitor loss above which an epoch counts as diverged (see ``_DIVERGENCE_FACTOR``).

    ``start_loss`` is the starting state's monitor loss on ``data``
    (``(x, target, weights)``); NaN when it is not finite, so that every
    epoch counts as diverged.
    """
    _, target, weights = data
    if not math.isfinite(start_loss):
        return math.nan
    constant_loss = float(constant_prediction_loss(target, weights, config.loss))
    return _DIVERGENCE_FACTOR * max(start_loss, constant_loss, torch.finfo(weights.dtype).eps)
