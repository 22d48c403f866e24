"""Fine-tuning a network after edges were snapped to symbolic functions."""

import contextlib
import math
import warnings

import torch

__all__ = ["fine_tune", "polish_symbolic"]


def fine_tune(network, x, target, weights, loss_fn, max_iter=50):
    """Full-batch L-BFGS on all parameters, without grid updates.

    Used after edges are snapped: the affine numbers of symbolic edges and
    the remaining splines adapt to each other. Keeps the best state seen.

    Parameters
    ----------
    network : KANNetwork
    x : torch.Tensor of shape (n_samples, n_features)
    target : torch.Tensor
    weights : torch.Tensor of shape (n_samples,)
    loss_fn : callable
        ``loss_fn(output, target, weights) -> scalar tensor``.
    max_iter : int
        Number of L-BFGS steps (of up to 20 inner iterations).

    Returns
    -------
    best_loss : float
    """
    optimizer = torch.optim.LBFGS(
        network.parameters(),
        lr=1.0,
        max_iter=20,
        history_size=20,
        line_search_fn="strong_wolfe",
        tolerance_grad=1e-14,
        tolerance_change=1e-16,
    )

    def closure():
        optimizer.zero_grad(set_to_none=True)
        value = loss_fn(network(x), target, weights)
        value.backward()
        return value

    def current():
        with torch.no_grad():
            return float(loss_fn(network(x), target, weights))

    best_loss, best_state = current(), {k: v.clone() for k, v in network.state_dict().items()}
    for _ in range(max_iter):
        optimizer.step(closure)
        value = current()
        if not math.isfinite(value):
            break
        if value < best_loss:
            improvement = best_loss - value
            best_loss, best_state = value, {k: v.clone() for k, v in network.state_dict().items()}
            # Polishing to machine precision is polish_symbolic's job.
            if improvement <= 1e-4 * best_loss:
                break
        else:
            break
    network.load_state_dict(best_state)
    return best_loss


def _symbolic_parameters(network):
    """Names of the parameters a fully symbolic network still depends on."""
    names = []
    for index, layer in enumerate(network.layers):
        names.append(f"layers.{index}.bias")
        if layer.symbolic is not None:
            names.append(f"layers.{index}.symbolic.affine")
    return names


@contextlib.contextmanager
def _dense_reference_path(network):
    """Run the layers on the dense reference path for the duration of the block.

    torch.func transforms cannot trace the fast path's custom autograd
    Function; on a fully symbolic network the spline part is masked out
    anyway, so the reference path costs nothing extra here.
    """
    previous = [layer.__dict__.get("use_fast_path") for layer in network.layers]
    for layer in network.layers:
        layer.use_fast_path = False
    try:
        yield
    finally:
        for layer, value in zip(network.layers, previous):
            if value is None:
                del layer.use_fast_path
            else:
                layer.use_fast_path = value


def polish_symbolic(network, x, target, weights, max_iter=100):
    """Levenberg-Marquardt on the numbers of a network whose edges are all symbolic.

    Snapped networks have few parameters but badly conditioned valleys (a
    cosine with a small frequency trades off against its scale), where
    L-BFGS crawls; Gauss-Newton steps with adaptive damping converge to
    machine precision on noise-free data. Squared error only.

    Returns
    -------
    loss : float
        Final weighted mean squared error.
    """
    with _dense_reference_path(network):
        return _polish(network, x, target, weights, max_iter)


def _polish(network, x, target, weights, max_iter):
    names = _symbolic_parameters(network)
    parameters = dict(network.named_parameters())
    shapes = [parameters[name].shape for name in names]
    sizes = [parameters[name].numel() for name in names]
    sqrt_weights = (weights / weights.sum()).sqrt()[:, None]

    def residuals(flat):
        state = {name: chunk.view(shape) for name, chunk, shape in zip(names, flat.split(sizes), shapes)}
        output = torch.func.functional_call(network, state, (x,), strict=False)
        return ((output - target) * sqrt_weights).reshape(-1)

    flat = torch.cat([parameters[name].detach().reshape(-1) for name in names])
    with torch.no_grad():
        loss = float(residuals(flat).square().sum())
    damping = 1e-3
    # Forward mode: few parameters, many residuals.
    jacobian_fn = torch.func.jacfwd(residuals)
    for _ in range(max_iter):
        r = residuals(flat).detach()
        with warnings.catch_warnings():
            # torch loads its forward-mode decompositions through the
            # deprecated torch.jit.script on first use; nothing for users to act on.
            warnings.simplefilter("ignore", DeprecationWarning)
            jac = jacobian_fn(flat).detach()
        gram, gradient = jac.T @ jac, jac.T @ r
        diagonal = gram.diagonal().clamp(min=1e-12)
        improved = False
        for _ in range(10):
            step = torch.linalg.lstsq(gram + damping * torch.diag(diagonal), -gradient[:, None]).solution[:, 0]
            candidate = flat + step
            with torch.no_grad():
                new_loss = float(residuals(candidate).square().sum())
            if math.isfinite(new_loss) and new_loss < loss:
                improved = True
                break
            damping *= 10.0
        if not improved:
            break
        relative = (loss - new_loss) / max(loss, 1e-300)
        flat, loss, damping = candidate, new_loss, max(damping / 10.0, 1e-12)
        if relative < 1e-10 or loss < 1e-30:
            break
    with torch.no_grad():
        for name, chunk, shape in zip(names, flat.split(sizes), shapes):
            parameters[name].copy_(chunk.view(shape))
    return loss
