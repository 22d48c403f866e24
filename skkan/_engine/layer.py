"""One KAN layer: a learnable 1-D function on every edge, summed at the nodes."""

import math

import torch
from torch import nn

from .bspline import bspline_basis, uniform_knots
from .fast_layer import coefficient_matrix, fast_layer_output
from .local_bspline import local_dense_basis

__all__ = ["KANLayer"]

# Relative spread of a single output node's initial residual weights.
_BASE_WEIGHT_JITTER = 0.1


class KANLayer(nn.Module):
    """A fully connected KAN layer from ``in_features`` to ``out_features`` nodes.

    The edge from input ``i`` to output ``j`` computes::

        phi_ij(x) = mask_ij * (base_weight_ij * silu(x)
                               + spline_weight_ij * sum_m spline_coef_ijm * B_m(x))

    where ``B_m`` are the B-spline basis functions on input ``i``'s knot
    vector, and output ``j`` is ``bias_j + sum_i phi_ij(x_i)``. The spline
    sum is computed as one matrix product of the flattened basis with the
    scaled coefficients, so no Python loop runs over edges or samples.

    Parameters
    ----------
    in_features, out_features : int
        Number of input and output nodes.
    grid_size : int
        Number of grid intervals of every spline.
    spline_order : int
        Order of the B-splines (3 is cubic).
    generator : torch.Generator, optional
        Source of randomness for the initial weights.
    dtype : torch.dtype, default=torch.float32
    noise_scale : float, default=0.1
        Standard deviation of the initial spline coefficients: the splines
        start as small random wiggles around the SiLU residual.
    """

    def __init__(
        self,
        in_features,
        out_features,
        grid_size,
        spline_order,
        *,
        generator=None,
        dtype=torch.float32,
        noise_scale=0.1,
    ):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.spline_order = spline_order
        low = torch.full((in_features,), -1.0, dtype=dtype)
        self.register_buffer("knots", uniform_knots(low, -low, grid_size, spline_order))
        self.register_buffer("mask", torch.ones(in_features, out_features, dtype=dtype))
        n_basis = grid_size + spline_order
        coef = torch.randn(in_features, out_features, n_basis, generator=generator, dtype=dtype)
        self.spline_coef = nn.Parameter(coef * noise_scale)
        # Both branches start at the fan-in scale. Several output nodes need
        # different starts (symmetry breaking), so their residual weights are
        # drawn uniformly in [-1, 1] times that scale, as in pykan. A single
        # output node has nothing to break: its residual weights start
        # positive, with a 10% jitter. A near-zero or negative residual there
        # starves the layers before it of gradient, and narrow deep KANs then
        # settle in folded local minima (exp(sin(pi x) + y^2) with widths
        # [2, 1, 1]: 10 of 10 seeds converged, against 5 of 10 with the
        # uniform draw).
        fan_in_scale = 1.0 / math.sqrt(in_features)
        jitter = 2.0 * torch.rand(in_features, out_features, generator=generator, dtype=dtype) - 1.0
        if out_features == 1:
            base_weight = (1.0 + _BASE_WEIGHT_JITTER * jitter) * fan_in_scale
        else:
            base_weight = jitter * fan_in_scale
        self.base_weight = nn.Parameter(base_weight)
        self.spline_weight = nn.Parameter(torch.full((in_features, out_features), fan_in_scale, dtype=dtype))
        self.bias = nn.Parameter(torch.zeros(out_features, dtype=dtype))
        # Optional SymbolicEdges module (see symbolic.py), set when edges are snapped.
        self.symbolic = None
        # Optional TabularEdges module (see tabular.py): missing values and
        # categorical inputs of the first layer.
        self.tabular = None

    @property
    def grid_size(self):
        """Number of grid intervals of the splines."""
        return self.knots.shape[1] - 2 * self.spline_order - 1

    def basis(self, x):
        """Dense B-spline basis of shape (batch, in_features, grid_size + spline_order)."""
        return bspline_basis(x, self.knots, self.spline_order)

    def _scaled_coefficients(self):
        return self.spline_coef * (self.spline_weight * self.mask).unsqueeze(-1)

    #: Use the local B-spline evaluation with a memory-lean backward
    #: (:mod:`~skkan._engine.fast_layer`); ``False`` selects the dense
    #: Cox-de Boor reference, kept to test the fast path against.
    use_fast_path = True

    def forward(self, x):
        """Map inputs of shape (batch, in_features) to (batch, out_features)."""
        if self.tabular is not None:
            return self.tabular.forward(self, x)
        return self.numeric_forward(x)

    def numeric_forward(self, x):
        """:meth:`forward` for finite inputs, all fed to the spline edges."""
        if self.use_fast_path:
            return self._fast_forward(x)
        return self._reference_forward(x)

    def _coefficient_matrix(self):
        return coefficient_matrix(self.spline_coef, self.spline_weight, self.mask)

    def _reference_forward(self, x):
        base = nn.functional.silu(x) @ (self.base_weight * self.mask)
        spline = self.basis(x).flatten(1) @ self._coefficient_matrix()
        return self._with_symbolic_edges(base + spline + self.bias, x)

    def _fast_forward(self, x):
        parameters = (self.spline_coef, self.spline_weight, self.base_weight, self.mask, self.bias)
        output = fast_layer_output(x, *parameters, self.knots, self.spline_order)
        return self._with_symbolic_edges(output, x)

    def _with_symbolic_edges(self, output, x):
        # Snapped edges (see symbolic.py) add their closed-form functions.
        if self.symbolic is not None:
            output = output + self.symbolic(x)
        return output

    def spline_basis(self, x):
        """Basis values the splines combine, shape (batch, in_features, n_coefficients).

        ``spline_values(x)`` is their product with ``spline_coef`` over the last axis.
        """
        if self.use_fast_path:
            return local_dense_basis(x, self.knots, self.spline_order)
        return self.basis(x)

    def spline_values(self, x):
        """Unscaled spline of every edge, shape (batch, in_features, out_features)."""
        return torch.einsum("bim,iom->bio", self.spline_basis(x), self.spline_coef)

    def edge_activations(self, x):
        """Value of every edge function, shape (batch, in_features, out_features).

        Summing over the input axis and adding ``bias`` gives ``forward(x)``.
        """
        if self.tabular is not None:
            return self.tabular.edge_activations(self, x)
        return self.numeric_edge_activations(x)

    def numeric_edge_activations(self, x):
        """:meth:`edge_activations` for finite inputs, all fed to the spline edges."""
        # One batched product per input, (in, batch, basis) @ (in, basis, out), added to the
        # residuals: two passes over the (batch, in, out) result instead of five.
        residuals = nn.functional.silu(x).T.unsqueeze(-1) * (self.base_weight * self.mask).unsqueeze(1)
        coefficients = self.spline_coef * (self.spline_weight * self.mask).unsqueeze(-1)
        basis = self.spline_basis(x).transpose(0, 1)
        activations = torch.baddbmm(residuals, basis, coefficients.transpose(1, 2)).transpose(0, 1)
        if self.symbolic is not None:
            activations = activations + self.symbolic.edge_values(x)
        return activations

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # A state dict with snapped edges recreates the symbolic branch.
        if self.symbolic is None and prefix + "symbolic.mask" in state_dict:
            from .symbolic import SymbolicEdges

            self.symbolic = SymbolicEdges(self.in_features, self.out_features, dtype=self.mask.dtype)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def bytes_per_row(self):
        """Bytes one row of a no-grad forward holds at once in this layer.

        The fast path keeps, per input, the ``k + 1`` local basis values and
        their column indices, plus the input and output rows; its dense
        temporaries are capped per chunk by the engine itself, whatever the
        number of rows (see :mod:`~skkan._engine.fast_layer`).
        """
        itemsize = self.spline_coef.element_size()
        local = self.in_features * (self.spline_order + 1) * (itemsize + 8)
        return local + itemsize * (2 * self.in_features + 2 * self.out_features)

    def n_active_parameters(self):
        """Trainable parameters of the edges that are not pruned, plus biases."""
        active_edges = int(self.mask.count_nonzero())
        per_edge = self.spline_coef.shape[-1] + 2
        used, symbolic_parameters = self.mask, 0
        if self.symbolic is not None:
            # A snapped edge has four numbers: c * f(a * x + b) + d.
            used, symbolic_parameters = self.mask + self.symbolic.mask, 4 * self.symbolic.n_active()
        active_outputs = int((used.sum(0) > 0).sum())
        tabular_parameters = 0 if self.tabular is None else self.tabular.n_active_parameters(self)
        return active_edges * per_edge + symbolic_parameters + active_outputs + tabular_parameters
