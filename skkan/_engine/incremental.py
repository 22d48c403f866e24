"""One pass of Adam over a chunk of data: the engine side of ``partial_fit``."""

import math

from ..exceptions import TrainingDivergedError
from .steps import adam_epoch, grid_rows, make_optimizer

__all__ = ["train_one_epoch"]


def train_one_epoch(network, x, target, weights, config, *, generator, place_grid):
    """Train ``network`` in place for one shuffled mini-batch epoch of Adam over ``x``.

    Parameters
    ----------
    network : KANNetwork
    x, target, weights : torch.Tensor
        As for :func:`~skkan._engine.training.train_network`.
    config : TrainingConfig
        Its ``learning_rate``, ``batch_size``, regularisation and
        ``grad_clip`` are used; the optimiser is always Adam.
    generator : torch.Generator
        Drives the shuffling.
    place_grid : bool
        Place the knots at the quantiles of ``x`` first (the first chunk);
        later chunks keep the knots, so every chunk trains the same functions.

    Returns
    -------
    float
        The epoch's mean training loss.

    Raises
    ------
    TrainingDivergedError
        If the loss is not finite; the caller keeps its previous network.
    """
    if place_grid:
        network.update_grids(*grid_rows(x, weights, generator), grid_eps=config.grid_eps)
    # A fresh Adam per chunk: its moments describe one chunk's gradients.
    optimizer = make_optimizer(network, config)
    loss = float(adam_epoch(network, optimizer, x, target, weights, config, generator))
    if not math.isfinite(loss):
        raise TrainingDivergedError(
            f"The training loss became {loss} in partial_fit; the estimator keeps its previous state. Lower "
            "learning_rate or check the data for extreme values."
        )
    return loss
