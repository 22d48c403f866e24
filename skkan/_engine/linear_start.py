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
in its own block of nodes.
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
    """Whether :func:`start_at_linear` can start ``network``: no product nodes, hidden widths >= outputs."""
    members = network.ensemble_size
    return (
        len(network.widths) > 2
        and not any(network.multiplication_nodes)
        and min(network.widths[1:]) // members >= network.n_outputs
    )


def _carriers(network, level):
    """Nodes of ``level`` carrying the linear scores: the first ``n_outputs`` of each member's block."""
    block = network.widths[level] // network.ensemble_size
    device = network.layers[0].knots.device
    return torch.cat(
        [member * block + torch.arange(network.n_outputs, device=device) for member in range(network.ensemble_size)]
    )


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
    members = network.ensemble_size
    dtype = network.layers[0].spline_coef.dtype
    with torch.no_grad():
        for index, layer in enumerate(network.layers):
            set_layer_grid(layer, x, weights)
            nodes = _carriers(network, index + 1)
            if index == 0:
                _set_linear_edges(layer, slopes.to(dtype).repeat(1, members), nodes)
                tabular = layer.tabular
                if tabular is not None:
                    if missing_values is not None:
                        tabular.missing_value[:, nodes] = missing_values.to(dtype).repeat(1, members)
                    if category_values is not None:
                        slots = min(category_values.shape[-1], tabular.category_value.shape[-1])
                        values = category_values[..., :slots].to(dtype).repeat(1, members, 1)
                        tabular.category_value[:, nodes, :slots] = values
            else:
                # Carrier c of the level before feeds carrier c of this level; nothing else reaches them.
                identity = torch.zeros(layer.in_features, nodes.numel(), dtype=dtype, device=layer.knots.device)
                identity[_carriers(network, index), torch.arange(nodes.numel())] = 1.0
                _set_linear_edges(layer, identity, nodes)
            x = network.combine_subnodes(index, layer(x))
        network.layers[-1].bias.copy_(intercept.to(dtype).repeat(members))
