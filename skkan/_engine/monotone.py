"""Monotone constraints: edges that are monotone by construction, on every path from a constrained input.

A network with ``monotone`` directions (one of -1, 0, 1 per input) keeps the
prediction monotone in each constrained input, everywhere, by structure:

* hidden nodes are *monotone* or *free*: in every member's block (and every
  interaction group) the nodes alternate, node ``j`` being free when
  ``(j // n_groups)`` is odd. Constrained inputs and monotone nodes feed only
  monotone nodes (see :meth:`KANNetwork.connections`), so free nodes never
  depend on a constrained input;
* a first-layer edge from a constrained input is monotone in that input's
  direction, and every edge out of a monotone node is non-decreasing. A
  composition of monotone edges summed at nodes is then monotone in each
  constrained input, in its direction;
* an edge is monotone when its SiLU residual is off (``base_weight`` 0),
  its ``spline_weight`` is non-negative, and its spline coefficients are
  monotone: a B-spline with ordered coefficients is monotone on its grid,
  and it is constant beyond (inputs are clamped to the grid).

:func:`enforce_monotone` maps any parameters onto that set. Training calls
it after every optimiser step and grid refit, so every state training keeps
satisfies it: the guarantee is certified, not encouraged by a penalty. The
unconstrained inputs keep the free nodes, whose outgoing edges stay free;
what they lose is that their interactions with constrained inputs pass
through non-decreasing edges only.
"""

import torch

__all__ = ["check_monotone", "enforce_monotone", "is_free_node", "monotone_requirements"]


def is_free_node(network, level):
    """Boolean per node of hidden level ``level``: free (may not depend on a constrained input)."""
    block = network.widths[level] // network.ensemble_size
    local = torch.arange(network.widths[level]) % block
    return (local // network.n_groups) % 2 == 1


def monotone_requirements(network):
    """Per layer, the direction each edge must keep: +1, -1, or 0 (free); int8 tensors of shape (in, out)."""
    directions = torch.as_tensor(network.monotone, dtype=torch.int8)
    requirements = []
    for index, layer in enumerate(network.layers):
        allowed = network.connections(index)
        if index == 0:
            required = directions[:, None].expand(layer.in_features, layer.out_features)
        else:
            monotone_nodes = ~is_free_node(network, index)
            required = monotone_nodes.to(torch.int8)[:, None].expand(layer.in_features, layer.out_features)
        requirements.append(torch.where(allowed, required, torch.zeros_like(required)).contiguous())
    return requirements


def _ordered(coefficients):
    """Non-decreasing rows: the mean of the running maximum and the reversed running minimum.

    Both are non-decreasing, so their mean is; a row already in order is
    left unchanged.
    """
    running_max = torch.cummax(coefficients, dim=-1).values
    running_min = torch.flip(torch.cummin(torch.flip(coefficients, [-1]), dim=-1).values, [-1])
    return (running_max + running_min) / 2.0


def enforce_monotone(network):
    """Map ``network``'s parameters onto the monotone set, in place (nothing without constraints)."""
    if network.monotone is None:
        return
    with torch.no_grad():
        for layer, required in zip(network.layers, network.monotone_requirements):
            required = required.to(layer.spline_coef.device)
            edges = required != 0
            if not bool(edges.any()):
                continue
            sign = torch.where(layer.spline_weight < 0, -1.0, 1.0).to(layer.spline_coef.dtype)
            layer.spline_weight.copy_(torch.where(edges, layer.spline_weight.abs(), layer.spline_weight))
            layer.base_weight.masked_fill_(edges, 0.0)
            direction = torch.where(edges, required.to(sign.dtype) * sign, torch.ones_like(sign)).unsqueeze(-1)
            # Order the coefficients in the edge's direction (after folding the weight's sign into them).
            ordered = _ordered(layer.spline_coef * direction) * direction * sign.unsqueeze(-1)
            layer.spline_coef.copy_(torch.where(edges.unsqueeze(-1), ordered, layer.spline_coef))


def check_monotone(network):
    """Whether every constrained edge of ``network`` is monotone as required (no residual, ordered spline)."""
    if network.monotone is None:
        return True
    for layer, required in zip(network.layers, network.monotone_requirements):
        edges = required != 0
        if not bool(edges.any()):
            continue
        if bool((layer.base_weight[edges] != 0).any()) or bool((layer.spline_weight[edges] < 0).any()):
            return False
        steps = torch.diff(layer.spline_coef, dim=-1) * required.to(layer.spline_coef.dtype).unsqueeze(-1)
        if bool((steps[edges] < 0).any()):
            return False
        if layer.symbolic is not None and bool((layer.symbolic.mask[edges] != 0).any()):
            return False
    return True
