"""Per-row contributions of the inputs to a network's outputs, by centred rescaling along the edges.

Each output of a KAN is a sum, at every node, of 1-D edge functions. The
contribution of input ``i`` to a row's output is carried forward layer by
layer, as a *relevance* ``r[i, j]``: the part of node ``j``'s deviation from
its reference value that input ``i`` is responsible for.

* Reference values are weighted means over background rows (the training
  sample): ``E[v_j]`` for every node and ``E[f]`` for the output, the *base
  value*.
* First layer: ``r[i, j] = phi_ij(x_i) - E[phi_ij]``, exactly the edge's
  deviation (missing-value and categorical edges included).
* A later edge ``psi_jk`` maps node ``j``'s deviation ``v_j - E[v_j]`` to
  ``psi_jk(v_j) - psi_jk(E[v_j])``; every input keeps its share of it, the
  *rescale rule* of DeepLIFT (Shrikumar et al., 2017): ``r[i, j]`` times the
  secant slope ``(psi(v) - psi(E v)) / (v - E v)`` (the derivative where the
  deviation is tiny, with the rounding left spread in proportion to the
  shares, so the sum stays exact).
* A product node ``a * b`` gives each factor's relevance the other factor's
  midpoint: ``r_a (b + E b) / 2 + r_b (a + E a) / 2``, which sums to
  ``a b - E a E b`` exactly (the Shapley split of a product of two players).
* After every layer (and again after its product nodes), each input's
  relevance is centred: its mean over the background rows is subtracted.
  The constants that the rescaled edges leave out
  (``E[psi(v)] - psi(E[v])``) are thereby shared so that every node's
  relevances sum to ``v_j - E[v_j]`` exactly.

Guarantees: every row's contributions plus the base value sum to the
network's output (completeness, to rounding); an input whose edges are all
pruned or constant gets exactly zero; each input's contributions average to
zero over the background rows; and where every hidden path carries one input
(an additive network, ``interaction_cst="no_interactions"`` or no hidden
layer) the contributions are the centred edge functions, which are the exact
interventional Shapley values with the background rows as the reference
distribution. For inputs that meet in a node, they are a rescale
attribution, not Shapley values.
"""

import torch

__all__ = ["ContributionReference", "edge_path_contributions"]

# Node deviations below this share of the node's spread use the derivative
# instead of the secant (whose quotient loses its digits there).
_RELATIVE_STEP = 1e-6


def _weighted_mean(values, weights):
    """Weighted mean over the first axis, exact (not merely to rounding) for a constant column.

    Values are summed as differences from the first row, so an input whose
    edges never change gets relevances of exactly zero.
    """
    shape = (-1,) + (1,) * (values.dim() - 1)
    first = values[:1]
    return first[0] + ((values - first) * weights.reshape(shape)).sum(dim=0) / weights.sum()


class ContributionReference:
    """Weighted means over the background rows of what the propagation needs, level by level.

    It depends only on the network and the background: compute it once and
    pass it to :func:`edge_path_contributions` for any number of rows.

    Parameters
    ----------
    network : KANNetwork
    background : torch.Tensor of shape (n_background, n_inputs)
        The rows whose weighted means are the reference (the training sample).
    weights : torch.Tensor of shape (n_background,)
        Non-negative weights of the background rows, with a positive sum.
    """

    @torch.no_grad()
    def __init__(self, network, background, weights):
        self.node_means, self.node_steps, self.relevance_means = [], [], []
        output, inputs, edges = network.forward_with_edges(background)
        for level_input in inputs:
            mean = _weighted_mean(level_input, weights)
            spread = torch.sqrt(_weighted_mean((level_input - mean) ** 2, weights))
            self.node_means.append(mean)
            self.node_steps.append(_RELATIVE_STEP * (spread + 1.0))
        self.first_edge_means = _weighted_mean(edges[0], weights)
        self.output_mean = _weighted_mean(output, weights)
        # The centring constants come from the background rows' own relevances.
        _propagate(network, inputs, edges, self, weights=weights)


def _rescale_through(layer, relevance, values, mean, step, edges):
    """Relevance of the outputs of ``layer`` (batch, n_inputs, out), from that of its input nodes.

    Each input keeps its share of every edge's change: its relevance at the
    node times the edge's secant slope between the node's reference value
    ``mean`` and its value. Where a node moved less than ``step``, the
    derivative stands in for the secant (whose quotient loses its digits);
    on the rows where such a node carries relevance, the error of the order
    of ``step`` squared it leaves is spread over the inputs by their shares,
    so the sums stay exact.
    """
    at_mean = layer.edge_activations(mean[None, :])
    change = edges - at_mean
    deviation = values - mean
    tiny = deviation.abs() <= step
    secants = change / torch.where(tiny, torch.ones_like(deviation), deviation).unsqueeze(-1)
    candidates = torch.nonzero(tiny.any(dim=1)).flatten()
    if candidates.numel():
        # A node that did not move and carries no relevance (a dead node, or inputs at their means) adds nothing
        # whatever its slope; only rows where a barely moving node carries relevance need the derivative.
        carrying = tiny[candidates] & (relevance[candidates].abs().amax(dim=1) > 0)
        candidates = candidates[carrying.any(dim=1)]
    if not candidates.numel():
        return torch.einsum("bfi,bio->bfo", relevance, secants)
    above = layer.edge_activations((mean + step)[None, :])
    below = layer.edge_activations((mean - step)[None, :])
    derivative = (above - below) / (2.0 * step)[None, :, None]
    secants = torch.where(tiny.unsqueeze(-1), derivative, secants)
    carried = torch.einsum("bfi,bio->bfo", relevance, secants)
    shares, slopes = relevance[candidates].abs(), secants[candidates]
    residual = change[candidates].sum(dim=1) - carried[candidates].sum(dim=1)  # (rows, out)
    weight = torch.einsum("bfi,bio->bfo", shares, (slopes != 0).to(shares.dtype))
    total = weight.sum(dim=1, keepdim=True)
    share = torch.where(total > 0, weight / torch.where(total > 0, total, torch.ones_like(total)), 0.0)
    carried[candidates] += share * residual.unsqueeze(1)
    return carried


def _combine(network, index, relevance, subnodes, reference):
    """Relevance of the nodes of level ``index + 1`` from that of the subnodes of layer ``index``."""
    n_products = network.multiplication_nodes[index + 1]
    n_sums = subnodes.shape[1] - 2 * n_products
    values = subnodes[:, n_sums:].reshape(subnodes.shape[0], n_products, 2)
    means = reference.subnode_means[index][n_sums:].reshape(n_products, 2)
    shares = relevance[:, :, n_sums:].reshape(relevance.shape[0], relevance.shape[1], n_products, 2)
    midpoints = (values + means) / 2.0
    products = shares[..., 0] * midpoints[:, None, :, 1] + shares[..., 1] * midpoints[:, None, :, 0]
    return torch.cat([relevance[:, :, :n_sums], products], dim=2)


def _propagate(network, inputs, edges, reference, weights=None):
    """Relevance of every input for every output, (batch, n_inputs, n_outputs).

    ``inputs`` and ``edges`` are :meth:`KANNetwork.forward_with_edges`'s for
    the rows. With ``weights`` (the background pass), the centring constants
    are computed from those rows and stored on ``reference``; otherwise they
    are read.
    """
    computing = weights is not None
    if computing:
        reference.subnode_means, reference.subnode_centres, reference.product_centres = [], [], []
    for index, layer in enumerate(network.layers):
        products = network.multiplication_nodes[index + 1]
        # Subnode values are needed for the background means and for product nodes; the next layer reads
        # its inputs from the forward pass.
        subnodes = edges[index].sum(dim=1) + layer.bias if computing or products else None
        if index == 0:
            # In place: the first layer's edges are not read again.
            relevance = edges[0].sub_(reference.first_edge_means)
        else:
            relevance = _rescale_through(
                layer, relevance, inputs[index], reference.node_means[index], reference.node_steps[index], edges[index]
            )
        if computing:
            reference.subnode_means.append(_weighted_mean(subnodes, weights))
            # First-layer relevances are centred already (each edge minus its mean).
            reference.subnode_centres.append(None if index == 0 else _weighted_mean(relevance, weights))
        if index > 0:
            relevance = relevance - reference.subnode_centres[index]
        # Every subnode's relevances now sum to its deviation from its mean, as the product rule needs.
        if products:
            relevance = _combine(network, index, relevance, subnodes, reference)
            if computing:
                reference.product_centres.append(_weighted_mean(relevance, weights))
            relevance = relevance - reference.product_centres[index]
        elif computing:
            reference.product_centres.append(None)
    return relevance


def _rows_within(network, n_inputs, budget_bytes):
    """Rows whose edge activations and relevances fit in ``budget_bytes`` (at least 1)."""
    itemsize = network.layers[0].spline_coef.element_size()
    per_row = sum(
        4 * layer.in_features * layer.out_features + 3 * n_inputs * layer.out_features for layer in network.layers
    )
    return max(1, int(budget_bytes) // (itemsize * per_row))


def edge_path_contributions(network, x, reference, *, budget_bytes=32 * 2**20):
    """Contributions of every input to every output of ``network`` for the rows ``x``.

    See the module docstring for the method and its guarantees. An
    ensemble's contributions are the mean of its members' (its output is
    their mean).

    Parameters
    ----------
    network : KANNetwork
    x : torch.Tensor of shape (n_rows, n_inputs)
        Network inputs (NaN for missing, codes for categorical inputs).
    reference : ContributionReference
        The background statistics of ``network``.
    budget_bytes : int, default=32 MiB
        Memory for the rows propagated at once; ``x`` is taken in chunks
        that fit.

    Returns
    -------
    contributions : torch.Tensor of shape (n_rows, n_inputs, n_outputs)
    base : torch.Tensor of shape (n_outputs,)
        The weighted mean output over the background rows;
        ``contributions.sum(dim=1) + base`` is the network's output.
    """
    with torch.no_grad():
        parts = []
        chunk_rows = _rows_within(network, x.shape[1], budget_bytes)
        for start in range(0, x.shape[0], chunk_rows):
            rows = x[start : start + chunk_rows]
            _, inputs, edges = network.forward_with_edges(rows)
            parts.append(_propagate(network, inputs, edges, reference))
        n_packed = network.widths[-1]
        contributions = torch.cat(parts) if parts else x.new_zeros((0, x.shape[1], n_packed))
        members = contributions.reshape(contributions.shape[0], contributions.shape[1], network.ensemble_size, -1)
        base = reference.output_mean.reshape(network.ensemble_size, -1).mean(dim=0)
        return members.mean(dim=2), base
