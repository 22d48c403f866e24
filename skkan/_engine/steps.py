"""Optimisation steps: one Adam epoch over mini-batches, one L-BFGS iteration, and what they share.

The training loop (:mod:`~skkan._engine.training`) and ``partial_fit``'s
single epochs (:mod:`~skkan._engine.incremental`) both run these.
"""

import torch

from .losses import objective
from .optimizers import LBFGS, Adam

__all__ = ["adam_epoch", "clip_gradients", "grid_rows", "lbfgs_iteration", "make_optimizer"]

# Rows used to re-place knots: quantiles of a random subset are accurate
# enough and keep each grid update cheap on large data sets.
_GRID_UPDATE_ROWS = 20_000


def make_optimizer(network, config):
    """A fresh optimiser for ``network``'s parameters: L-BFGS with a strong-Wolfe line search, or Adam."""
    if config.optimizer == "lbfgs":
        return LBFGS(
            network.parameters(),
            lr=config.learning_rate,
            max_iter=config.lbfgs_inner_iter,
            history_size=10,
            line_search_fn="strong_wolfe",
            tolerance_grad=1e-12,
            tolerance_change=1e-14,
        )
    # One fused (or multi-tensor) kernel per update instead of a Python loop
    # over the parameters: about 15% of a small step.
    return Adam(network.parameters(), lr=config.learning_rate)


def clip_gradients(optimizer, parameters, max_norm):
    """Scale gradients down to a total norm of ``max_norm``, without a host sync.

    The norm is one multi-tensor reduction. A fused Adam divides the
    gradients by its ``grad_scale`` as it reads them (the protocol of
    ``torch.amp.GradScaler``), so there clipping costs no pass of its own;
    otherwise one multi-tensor scale by ``min(1, max_norm / norm)`` does it.
    Both replace a per-parameter Python loop.
    """
    grads = [p.grad for p in parameters if p.grad is not None]
    norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    if optimizer.defaults.get("fused"):
        # The kernel takes a float32 scale whatever the parameters' dtype.
        optimizer.grad_scale = torch.clamp(norm / max_norm, min=1.0).float()
    else:
        torch._foreach_mul_(grads, torch.clamp(max_norm / (norm + 1e-6), max=1.0))


def adam_epoch(network, optimizer, x, target, weights, config, generator):
    """One pass over shuffled mini-batches; the running mean objective, as a tensor (no host sync)."""
    n_samples = x.shape[0]
    parameters = [p for group in optimizer.param_groups for p in group["params"]]
    order = torch.randperm(n_samples, generator=generator).to(x.device)
    total = torch.zeros((), dtype=weights.dtype, device=x.device)
    for start in range(0, n_samples, config.batch_size):
        batch = order[start : start + config.batch_size]
        batch_weights = weights[batch]
        optimizer.zero_grad(set_to_none=True)
        value = objective(network, x[batch], target[batch], batch_weights, config)
        value.backward()
        if config.grad_clip:
            clip_gradients(optimizer, parameters, config.grad_clip)
        optimizer.step()
        network.enforce_constraints()
        total += value.detach() * batch_weights.sum()
    return total / weights.sum()


def lbfgs_iteration(network, optimizer, x, target, weights, config):
    """One L-BFGS iteration; the full-batch objective after it, as a tensor."""

    def closure():
        optimizer.zero_grad(set_to_none=True)
        value = objective(network, x, target, weights, config)
        value.backward()
        return value

    optimizer.step(closure)
    network.enforce_constraints()
    with torch.no_grad():
        return objective(network, x, target, weights, config)


def grid_rows(x, weights, generator):
    if x.shape[0] <= _GRID_UPDATE_ROWS:
        return x, weights
    rows = torch.randperm(x.shape[0], generator=generator)[:_GRID_UPDATE_ROWS].to(x.device)
    return x[rows], weights[rows]
