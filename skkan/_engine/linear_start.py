"""Start a network exactly at a linear model of its inputs.

A KAN can represent a linear model: cubic (any order) B-splines reproduce a
straight line on their grid when their coefficients are the *Greville
abscissae* of the knots, ``xi_m = (t_{m+1} + ... + t_{m+k}) / k``. So

* first layer: the edge from input ``i`` to hidden node ``k`` is
  ``slope_ik * x`` (its SiLU residual off), a missing value of the input
  reads ``missing_ik`` and a categorical input's lookup table reads
  ``category_ik``: hidden node ``k`` holds output ``k``'s linear score;
* every later layer passes node ``k`` on to node ``k`` (the identity on the
  grid, placed on the values the node takes) and takes nothing from the
  other nodes; the output bias is the intercept.

The other hidden nodes keep their random first-layer edges; only their
outgoing edges start at zero, and training grows them (their gradient is
not zero), so the network starts as the linear model and learns what it
misses. Every member of an ensemble starts at the same linear model, each
in its own block of nodes. With interaction groups (``input_groups``), every
group has its own carriers; an input's term goes to its first group's, and
the output layer sums the groups.
"""

import torch

from .grid import set_layer_grid

__all__ = ["greville_abscissae", "linear_start_possible", "start_at_linear"]


def greville_abscissae(knots, spline_order):
    """Spline coefficients reproducing ``f(x) = x`` on each grid, shape (in_features, n_basis)."""
    n_basis = knots.shape[1] - spline_order - 1
    windows = knots.unfold(1, spline_order, 1)[:, 1 : n_basis + 1]  # t_{m+1} .. t_{m+k}
    return windows.mean(dim=-1)


def linear_start_possible(network):
    """Whether :func:`start_at_linear` can start ``network``.

    It needs a hidden layer, no product nodes, and in every member's block
    of every hidden level at least ``n_outputs`` nodes per interaction group.
    """
    members, groups = network.ensemble_size, network.n_groups
    return (
        len(network.widths) > 2
        and not any(network.multiplication_nodes)
        and min(network.widths[1:-1]) // members // groups >= network.n_outputs
    )


def _carriers(network, level):
    """Nodes of ``level`` carrying the linear scores, and the group each carries.

    In a hidden level, every member's block has one carrier per interaction
    group and output: the group's first ``n_outputs`` nodes (node ``j`` of
    a block is in group ``j % n_groups``). In the output level, the outputs.
    Carriers are ordered by member, then group, then output.
    """
    device = network.layers[0].knots.device
    members, n_outputs = network.ensemble_size, network.n_outputs
    block = network.widths[level] // members
    groups = 1 if level == len(network.widths) - 1 else network.n_groups
    member = torch.arange(members, device=device)[:, None, None]
    group = torch.arange(groups, device=device)[None, :, None]
    output = torch.arange(n_outputs, device=device)[None, None, :]
    nodes = member * block + group + groups * output
    return nodes.flatten(), group.expand(members, groups, n_outputs).flatten()


def _first_group(network):
    """Index of the first interaction group holding each input (its linear term goes there)."""
    owner = torch.zeros(network.widths[0], dtype=torch.long)
    if network.input_groups is not None:
        for group in reversed(range(network.n_groups)):
            owner[list(network.input_groups[group])] = group
    return owner


def _set_linear_edges(layer, slopes, nodes):
    """Edges ``i -> nodes[c]`` of ``layer`` become ``slopes[i, c] * x`` (residuals and biases off)."""
    line = greville_abscissae(layer.knots, layer.spline_order)  # (in, n_basis)
    weight = layer.spline_weight[:, nodes]
    layer.spline_coef[:, nodes] = slopes[:, :, None] * line[:, None, :] / weight[:, :, None]
    layer.base_weight[:, nodes] = 0.0
    layer.bias[nodes] = 0.0


def start_at_linear(network, x, weights, slopes, intercept, missing_values=None, category_values=None):
    """Set ``network`` (in place) so that it computes a linear model of its inputs.

    Parameters
    ----------
    network : KANNetwork
        A fresh network for which :func:`linear_start_possible` holds.
    x : torch.Tensor of shape (n_samples, n_features)
        Training inputs (NaN for missing, codes for categorical inputs):
        each layer's grid is placed on the values it receives, so that the
        lines hold over the whole data.
    weights : torch.Tensor of shape (n_samples,)
    slopes : torch.Tensor of shape (n_features, n_outputs)
        Coefficient of each numeric input for each output (ignored for
        categorical inputs).
    intercept : torch.Tensor of shape (n_outputs,)
    missing_values : torch.Tensor of shape (n_features, n_outputs), optional
        What a missing value of each input adds (first layer's tabular edges).
    category_values : torch.Tensor of shape (n_features, n_outputs, n_slots), optional
        What each category of a categorical input adds.
    """
    n_carriers = network.ensemble_size * network.n_groups
    dtype = network.layers[0].spline_coef.dtype
    with torch.no_grad():
        for index, layer in enumerate(network.layers):
            set_layer_grid(layer, x, weights)
            nodes, groups = _carriers(network, index + 1)
            if index == 0:
                # Each input's term goes to the carriers of its first group only.
                owns = (_first_group(network).to(groups.device)[:, None] == groups[None, :]).to(dtype)
                _set_linear_edges(layer, slopes.to(dtype).repeat(1, n_carriers) * owns, nodes)
                tabular = layer.tabular
                if tabular is not None:
                    if missing_values is not None:
                        tabular.missing_value[:, nodes] = missing_values.to(dtype).repeat(1, n_carriers) * owns
                    if category_values is not None:
                        slots = min(category_values.shape[-1], tabular.category_value.shape[-1])
                        values = category_values[..., :slots].to(dtype).repeat(1, n_carriers, 1)
                        tabular.category_value[:, nodes, :slots] = values * owns[:, :, None]
            else:
                # Each carrier of the level before feeds the carrier of the same member and output (and
                # group, between hidden levels); nothing else reaches them.
                before, _ = _carriers(network, index)
                identity = torch.zeros(layer.in_features, nodes.numel(), dtype=dtype, device=layer.knots.device)
                per_target = before.numel() // nodes.numel()  # the groups summed into an output
                n_outputs = network.n_outputs
                source = torch.arange(before.numel(), device=identity.device)
                # Carriers are ordered member, group, output: an output carrier sums its member's groups
                # (between hidden levels, per_target is 1 and every carrier feeds its own twin).
                target = (source // (per_target * n_outputs)) * n_outputs + source % n_outputs
                identity[before, target] = 1.0
                _set_linear_edges(layer, identity, nodes)
            x = network.combine_subnodes(index, layer(x))
        network.layers[-1].bias.copy_(intercept.to(dtype).repeat(network.ensemble_size))
    # A slope against a monotone constraint cannot be kept: the edge is flattened to fit it.
    network.enforce_constraints()
