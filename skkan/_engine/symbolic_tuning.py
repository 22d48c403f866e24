"""Fine-tuning a network after edges were snapped to symbolic functions."""

import contextlib
import math
import time
import warnings

import torch

from .optimizers import LBFGS

__all__ = ["fine_tune", "past_deadline", "polish_symbolic"]

# Levenberg-Marquardt stops once a step lowers the loss by less than this share of it.
# Gauss-Newton steps on data a formula fits exactly gain orders of magnitude a step until
# the loss reaches rounding error; on noisy data the loss settles at the noise and the
# steps then creep along flat valleys (an edge's offset against the bias), 1e-8 of the loss
# a step for hundreds of steps, moving no printed digit.
_LM_RELATIVE_TOLERANCE = 1e-6

# Up to this many rows, fine-tuning runs on the dense reference path.
_DENSE_ROWS = 4096


def fine_tune(network, x, target, weights, loss_fn, max_iter=50, deadline=None):
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
    deadline : float, optional
        A :func:`time.perf_counter` value after which no further step starts.

    Returns
    -------
    best_loss : float
    """
    optimizer = LBFGS(
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
    # The compiled kernel's per-call overhead dominates on the few rows a
    # formula is fitted to; the dense reference path is faster there.
    small = x.shape[0] <= _DENSE_ROWS
    with _dense_reference_path(network) if small else contextlib.nullcontext():
        best_loss, best_state = _lbfgs_rounds(
            optimizer, closure, current, best_loss, best_state, network, max_iter, deadline
        )
    network.load_state_dict(best_state)
    return best_loss


def past_deadline(deadline):
    """Whether the :func:`time.perf_counter` ``deadline`` (None: none) has passed."""
    return deadline is not None and time.perf_counter() >= deadline


def _lbfgs_rounds(optimizer, closure, current, best_loss, best_state, network, max_iter, deadline):
    for _ in range(max_iter):
        if past_deadline(deadline):
            break
        optimizer.step(closure)
        network.enforce_constraints()
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
    return best_loss, best_state


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


def polish_symbolic(network, x, target, weights, max_iter=100, n_starts=4, deadline=None):
    """Levenberg-Marquardt on the numbers of a network whose edges are all symbolic.

    Snapped networks have few parameters but badly conditioned valleys (a
    cosine with a small frequency trades off against its scale), where
    L-BFGS crawls; Gauss-Newton steps with adaptive damping converge to
    machine precision on noise-free data. Squared error only.

    Two things make it robust to the start that snapping leaves:

    - *variable projection*: the output layer is linear in its scales ``c``,
      offsets ``d`` and bias, so these are solved by least squares for every
      value of the other numbers, and only the others are iterated. A start
      where an edge's scale is near zero (a product whose factor became
      constant) is then no saddle: the scale is always the best one;
    - *several starts*: the current numbers, then ``n_starts - 1`` seeded
      perturbations of them; the lowest loss wins (stopping early once the
      data are fitted to rounding error, or once a start ends where the
      best one did).

    At ``deadline`` (a :func:`time.perf_counter` value; None: none) no
    further step or start begins: the network keeps the best numbers
    reached.

    Returns
    -------
    loss : float
        Final weighted mean squared error.
    """
    with _dense_reference_path(network):
        last = network.layers[-1]
        if last.symbolic is None or last.tabular is not None:
            return _polish(network, x, target, weights, max_iter, deadline)
        return _projected_polish(network, x, target, weights, max_iter, n_starts, deadline)


def _levenberg_marquardt(residuals, flat, max_iter, deadline=None):
    """Minimise ``residuals(flat).square().sum()``; returns the best ``flat`` and its loss."""
    with torch.no_grad():
        r = residuals(flat)
    loss = float(r.square().sum())
    if not math.isfinite(loss):
        return flat, math.inf
    damping = 1e-3
    # Forward mode: few parameters, many residuals.
    jacobian_fn = torch.func.jacfwd(residuals)
    for _ in range(max_iter):
        if past_deadline(deadline):
            break
        with warnings.catch_warnings():
            # torch loads its forward-mode decompositions through the
            # deprecated torch.jit.script on first use; nothing for users to act on.
            warnings.simplefilter("ignore", DeprecationWarning)
            jac = jacobian_fn(flat).detach()
        if not torch.isfinite(jac).all():
            break
        gram, gradient = jac.T @ jac, jac.T @ r
        # Marquardt's damping, gram + damping * diag(gram), solved in the scaled form
        # (unit diagonal + damping * I, the numbers' scales divided out): the same step,
        # with a condition the solver sees correctly whatever units the numbers have.
        scale = gram.diagonal().clamp(min=1e-12).sqrt()
        scaled_gram = gram / (scale[:, None] * scale[None, :])
        identity = torch.eye(scale.numel(), dtype=gram.dtype, device=gram.device)
        improved = False
        for _ in range(10):
            # The SVD driver: its minimum-norm step leaves the directions the residuals do not
            # see (an edge's offset against the bias) alone, and it gives the same step for the
            # same system every time. The default QR driver (gelsy) does not on such nearly
            # singular systems: its rank decision differed from call to call on one matrix, so
            # the constants of a formula changed from one run to the next.
            system = scaled_gram + damping * identity
            step = torch.linalg.lstsq(system, -(gradient / scale)[:, None], driver="gelsd").solution[:, 0] / scale
            candidate = flat + step
            with torch.no_grad():
                candidate_r = residuals(candidate)
            new_loss = float(candidate_r.square().sum())
            if math.isfinite(new_loss) and new_loss < loss:
                improved = True
                break
            damping *= 10.0
        if not improved:
            break
        relative = (loss - new_loss) / max(loss, 1e-300)
        flat, r, loss, damping = candidate, candidate_r, new_loss, max(damping / 10.0, 1e-12)
        if relative < _LM_RELATIVE_TOLERANCE or loss < 1e-30:
            break
    return flat, loss


def _polish(network, x, target, weights, max_iter, deadline):
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
    flat, loss = _levenberg_marquardt(residuals, flat, max_iter, deadline)
    if math.isfinite(loss):
        with torch.no_grad():
            for name, chunk, shape in zip(names, flat.split(sizes), shapes):
                parameters[name].copy_(chunk.view(shape))
    return loss


class _ProjectedProblem:
    """The squared error of a fully symbolic network, with its output layer's linear numbers projected out.

    The iterated numbers ``theta`` are the biases and affine numbers of the
    hidden layers and the inner numbers ``(a, b)`` of the output layer's
    edges; the outer ``c`` of every output edge and one intercept per output
    (the edges' ``d`` and the bias, which only add up) come from weighted
    least squares.
    """

    def __init__(self, network, x, target, weights):
        self.network, self.x, self.target = network, x, target
        self.sqrt_weights = (weights / weights.sum()).sqrt()[:, None]
        self.last = network.layers[-1]
        parameters = dict(network.named_parameters())
        self.names = [
            name for name in _symbolic_parameters(network) if not name.startswith(f"layers.{len(network.layers) - 1}.")
        ]
        self.shapes = [parameters[name].shape for name in self.names]
        self.sizes = [parameters[name].numel() for name in self.names]
        self.parameters = parameters
        self.active = [(self.last.symbolic.mask[:, j] != 0).nonzero()[:, 0] for j in range(self.last.out_features)]
        self.last_groups = self.last.symbolic.edge_groups()
        # Per hidden layer, its symbolic edge groups when the layer is nothing
        # but symbolic edges on plain inputs (no spline, no missing value, no
        # category): its output is then computed directly, skipping the
        # B-spline basis of masked-out splines, which dominates the cost.
        self.hidden_groups = [self._symbolic_only_groups(layer) for layer in network.layers[:-1]]

    def _symbolic_only_groups(self, layer):
        if layer.symbolic is None or bool((layer.mask != 0).any()):
            return None
        # Only the first layer has tabular edges, so ``self.x`` is its input.
        if layer.tabular is not None and (bool(torch.isnan(self.x).any()) or bool(layer.tabular.is_categorical.any())):
            return None
        return layer.symbolic.edge_groups()

    def initial(self):
        hidden = [self.parameters[name].detach().reshape(-1) for name in self.names]
        return torch.cat([*hidden, self.last.symbolic.affine.detach()[..., :2].reshape(-1)])

    def _split(self, theta):
        chunks = theta.split([*self.sizes, theta.numel() - sum(self.sizes)])
        state = {name: chunk.view(shape) for name, chunk, shape in zip(self.names, chunks, self.shapes)}
        return state, chunks[-1].view(*self.last.symbolic.affine.shape[:2], 2)

    def solve(self, theta):
        """Predictions and, per output, the least-squares outer numbers ``[c_i..., intercept]``."""
        state, inner = self._split(theta)
        hidden = self.x
        for index, (layer, groups) in enumerate(zip(self.network.layers[:-1], self.hidden_groups)):
            prefix = f"layers.{index}."
            layer_state = {name[len(prefix) :]: value for name, value in state.items() if name.startswith(prefix)}
            if groups is None:
                output = torch.func.functional_call(layer, layer_state, (hidden,), strict=False)
            else:
                edges = layer.symbolic.edge_values(hidden, layer_state["symbolic.affine"], groups)
                output = edges.sum(dim=1) + layer_state["bias"]
            hidden = self.network.combine_subnodes(index, output)
        unit = torch.stack([torch.ones_like(inner[..., 0]), torch.zeros_like(inner[..., 0])], dim=-1)
        features = self.last.symbolic.edge_values(hidden, torch.cat([inner, unit], dim=-1), self.last_groups)
        predictions, outer = [], []
        for j, rows in enumerate(self.active):
            design = torch.cat([features[:, rows, j], torch.ones_like(hidden[:, :1])], dim=1)
            weighted = design * self.sqrt_weights
            # Columns scaled to unit norm, so the whisper of ridge that keeps
            # collinear features solvable weighs the same on every column
            # (a product of large factors next to the intercept).
            norms = weighted.square().sum(0).sqrt().clamp(min=1e-300)
            weighted = weighted / norms
            gram = weighted.T @ weighted + 1e-12 * torch.eye(weighted.shape[1], dtype=weighted.dtype)
            rhs = weighted.T @ (self.target[:, j : j + 1] * self.sqrt_weights)
            coefficients = torch.linalg.solve(gram, rhs) / norms[:, None]
            predictions.append(design @ coefficients)
            outer.append(coefficients[:, 0])
        return torch.cat(predictions, dim=1), outer

    def residuals(self, theta):
        predictions, _ = self.solve(theta)
        return ((predictions - self.target) * self.sqrt_weights).reshape(-1)

    def write(self, theta):
        """Set the network's numbers from ``theta`` and the projected outer numbers."""
        with torch.no_grad():
            _, outer = self.solve(theta)
            state, inner = self._split(theta)
            for name, value in state.items():
                self.parameters[name].copy_(value)
            affine = self.last.symbolic.affine
            affine[..., :2] = inner
            for j, rows in enumerate(self.active):
                affine[rows, j, 2] = outer[j][:-1]
                affine[rows, j, 3] = 0.0
                self.last.bias[j] = outer[j][-1]


def _projected_polish(network, x, target, weights, max_iter, n_starts, deadline):
    problem = _ProjectedProblem(network, x, target, weights)
    start = problem.initial()
    generator = torch.Generator().manual_seed(0)
    # "Fitted to rounding error" on the scale of the (standardised) targets.
    exact = 1e-20 * max(float(target.square().mean()), 1e-300)
    best_theta, best_loss = start, math.inf
    for attempt in range(max(n_starts, 1)):
        if attempt and past_deadline(deadline):
            break
        theta = start
        if attempt:
            noise = torch.randn(start.shape, generator=generator, dtype=start.dtype)
            theta = start + 0.5 * noise * (start.abs() + 0.5)
        theta, loss = _levenberg_marquardt(problem.residuals, theta, max_iter, deadline)
        # A second start that ends where the best one did (within 1%)
        # suggests the others would too: stop there.
        agree = math.isfinite(best_loss) and abs(loss - best_loss) <= 1e-2 * best_loss
        if loss < best_loss:
            best_theta, best_loss = theta, loss
        if best_loss <= exact or agree:
            break
    if math.isfinite(best_loss):
        problem.write(best_theta)
    return best_loss
