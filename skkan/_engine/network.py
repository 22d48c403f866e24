"""A stack of KAN layers."""

import torch
from torch import nn

from .grid import set_layer_grid
from .layer import KANLayer

__all__ = ["KANNetwork"]


class KANNetwork(nn.Module):
    """A Kolmogorov-Arnold network with layer widths ``widths``.

    Parameters
    ----------
    widths : sequence of int
        Number of nodes per layer, inputs first and outputs last, e.g.
        ``[2, 5, 1]``.
    grid_size : int
        Initial number of grid intervals of every spline.
    spline_order : int
        Order of the B-splines.
    generator : torch.Generator, optional
        Source of randomness for the initial weights.
    dtype : torch.dtype, default=torch.float32

    Examples
    --------
    >>> import torch
    >>> from skkan._engine import KANNetwork
    >>> net = KANNetwork([2, 3, 1], grid_size=5, spline_order=3)
    >>> net(torch.zeros(4, 2)).shape
    torch.Size([4, 1])
    """

    def __init__(self, widths, grid_size, spline_order, *, generator=None, dtype=torch.float32):
        super().__init__()
        self.widths = list(widths)
        self.layers = nn.ModuleList(
            KANLayer(n_in, n_out, grid_size, spline_order, generator=generator, dtype=dtype)
            for n_in, n_out in zip(self.widths[:-1], self.widths[1:])
        )

    @property
    def grid_size(self):
        """Current number of grid intervals (the same in every layer)."""
        return self.layers[0].grid_size

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def layer_inputs(self, x):
        """Inputs of every layer and the network output, without gradients.

        Returns
        -------
        inputs : list of torch.Tensor
            ``inputs[l]`` is what layer ``l`` receives; the last entry is the
            network output.
        """
        with torch.no_grad():
            inputs = [x]
            for layer in self.layers:
                inputs.append(layer(inputs[-1]))
        return inputs

    def forward_with_edges(self, x):
        """Network output and, per layer, its inputs and edge activations.

        Used by the sparsity regulariser and the interpretation tools; it
        materialises a (batch, in, out) tensor per layer, so it is slower
        than :meth:`forward`.
        """
        inputs, edges = [], []
        for layer in self.layers:
            activations = layer.edge_activations(x)
            inputs.append(x)
            edges.append(activations)
            x = activations.sum(dim=1) + layer.bias
        return x, inputs, edges

    def update_grids(self, x, weights, grid_size=None, grid_eps=0.02):
        """Adapt every layer's knots to the data, first layer first.

        Each layer is updated from the inputs it receives after the layers
        before it were updated, so the whole network stays consistent.
        """
        for layer in self.layers:
            set_layer_grid(layer, x, weights, grid_size=grid_size, grid_eps=grid_eps)
            with torch.no_grad():
                x = layer(x)

    def max_rows_within(self, budget_bytes):
        """Rows of a no-grad forward that fit in ``budget_bytes`` (at least 1).

        Layers run one after the other, so the most demanding layer bounds
        the peak. Prediction chunks its input by this number.
        """
        return max(1, int(budget_bytes) // max(layer.bytes_per_row() for layer in self.layers))

    def n_active_parameters(self):
        """Trainable parameters of the edges that are not pruned."""
        return sum(layer.n_active_parameters() for layer in self.layers)
