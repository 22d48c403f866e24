"""Sparsity and smoothness penalties of a KAN (the KAN paper's regulariser)."""

import torch

__all__ = ["edge_magnitudes", "sparsity_penalty", "smoothness_penalty"]

_EPS = 1e-4


def edge_magnitudes(inputs, edges, weights):
    """Mean absolute activation of every edge, relative to its input's spread.

    Parameters
    ----------
    inputs : torch.Tensor of shape (batch, in)
        Layer inputs.
    edges : torch.Tensor of shape (batch, in, out)
        Edge activations of the layer.
    weights : torch.Tensor of shape (batch,)
        Sample weights, normalised to sum to one.

    Returns
    -------
    magnitude : torch.Tensor of shape (in, out)
    """
    mean_abs = torch.einsum("b,bio->io", weights, edges.abs())
    # Missing inputs (NaN) count at the standardised mean, 0.
    inputs = torch.nan_to_num(inputs)
    centered = inputs - weights @ inputs
    input_std = torch.sqrt(weights @ centered.square() + 1e-12)
    return mean_abs / (input_std[:, None] + _EPS)


def _entropy(probabilities, dim):
    return -(probabilities * torch.log2(probabilities + _EPS)).sum(dim)


def sparsity_penalty(inputs_per_layer, edges_per_layer, weights, lamb_l1, lamb_entropy):
    """L1 plus entropy penalty on edge magnitudes, summed over layers.

    The L1 term pushes whole edges to zero; the entropy terms concentrate
    each node's incoming and outgoing mass on few edges, which is what makes
    pruning recover a sparse structure.
    """
    total = 0.0
    for inputs, edges in zip(inputs_per_layer, edges_per_layer):
        magnitude = edge_magnitudes(inputs, edges, weights)
        total = total + lamb_l1 * magnitude.sum()
        if lamb_entropy:
            row = magnitude / (magnitude.sum(dim=1, keepdim=True) + _EPS)
            col = magnitude / (magnitude.sum(dim=0, keepdim=True) + _EPS)
            total = total + lamb_entropy * (_entropy(row, 1).sum() + _entropy(col, 0).sum())
    return total


def smoothness_penalty(network):
    """Mean absolute second difference of the spline coefficients.

    Penalising curvature of the coefficient sequence favours smooth edge
    functions, which generalise better on noisy tabular data.
    """
    total = 0.0
    for layer in network.layers:
        coef = layer.spline_coef
        if coef.shape[-1] >= 3:
            total = total + (coef[..., 2:] - 2 * coef[..., 1:-1] + coef[..., :-2]).abs().mean()
    return total
