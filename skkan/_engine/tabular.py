"""Edges of the first layer that take missing values and categorical inputs.

A :class:`TabularEdges` module attached to a layer (``layer.tabular``) changes
what the edge from input ``i`` to output ``j`` computes for two kinds of
input value; everything else stays the ordinary spline edge::

    phi_ij(x) = missing_value_ij                     if x is NaN
              = category_value_ij[code(x)]           if input i is categorical
              = spline edge (base + spline + symbolic) otherwise

A categorical input carries integer codes ``0 .. n_categories[i] - 1``; any
other value (an unknown category, encoded as -1 by the estimators) reads the
extra slot ``n_categories[i]``, the edge's default. Missing values of inputs
never seen missing in training, and the default slot of every categorical
input, have nothing to learn from; :func:`fill_unobserved_values` sets them
to the edge's mean value over the training data, so a missing or unknown
input then adds what the edge adds on average. Every value is multiplied by
the edge's mask (spline or snapped formula), so pruning removes them too.

NaN never reaches the spline: those inputs (and categorical codes) are
replaced by 0 for the spline path, whose contribution at 0 is then
subtracted, which leaves the spline parameters without gradient from them.
"""

import math

import torch
from torch import nn

__all__ = ["TabularEdges", "attach_tabular_edges", "fill_unobserved_values", "record_missing_inputs"]


class TabularEdges(nn.Module):
    """Learned values for missing inputs and categories on a layer's edges.

    Parameters
    ----------
    in_features, out_features : int
        Shape of the layer.
    n_categories : sequence of int, optional
        Categories of each input; 0 for a numeric input (the default for all).
    dtype : torch.dtype, default=torch.float32
    """

    def __init__(self, in_features, out_features, n_categories=None, *, dtype=torch.float32):
        super().__init__()
        counts = torch.zeros(in_features, dtype=torch.long)
        if n_categories is not None:
            counts = torch.as_tensor(list(n_categories), dtype=torch.long).reshape(in_features)
        self.register_buffer("n_categories", counts)
        # 1 where the training data had missing values for the input: those
        # missing values are learned, the others filled after training.
        self.register_buffer("missing_seen", torch.zeros(in_features, dtype=dtype))
        self.missing_value = nn.Parameter(torch.zeros(in_features, out_features, dtype=dtype))
        n_slots = int(counts.max()) + 1 if in_features else 1
        self.category_value = nn.Parameter(torch.zeros(in_features, out_features, n_slots, dtype=dtype))

    @property
    def is_categorical(self):
        """Boolean (in_features,): inputs with a lookup table instead of a spline."""
        return self.n_categories > 0

    @staticmethod
    def edge_mask(layer):
        """1 on the edges that compute something (spline or snapped formula), 0 on pruned ones."""
        if layer.symbolic is None:
            return layer.mask
        return torch.clamp(layer.mask + layer.symbolic.mask, max=1.0)

    def _categorical_index(self):
        return torch.nonzero(self.is_categorical).flatten()

    def _special(self, x):
        missing = torch.isnan(x)
        return missing, missing | self.is_categorical.to(x.device)

    def n_active_parameters(self, layer):
        """What these edges change in ``layer.n_active_parameters()``.

        Learned missing values count (one per active edge of an input that
        had missing values in training); a categorical input's active edges
        count their categories instead of a spline's coefficients and weights.
        """
        active = self.edge_mask(layer) != 0
        categorical = self.is_categorical
        learned_missing = int(active[self.missing_seen != 0].sum())
        tables = int((active[categorical].sum(dim=1) * self.n_categories[categorical]).sum())
        splines = int((layer.mask[categorical] != 0).sum()) * (layer.spline_coef.shape[-1] + 2)
        return learned_missing + tables - splines

    def numeric_inputs(self, x):
        """``x`` with categorical codes set to 0 and missing values filled from observed ones.

        What the grid placement sees: each input's knots follow its observed
        values, so a missing entry takes an observed value of the same input
        (cycling through them, deterministic) rather than piling up at one
        point.
        """
        missing = torch.isnan(x)
        x = torch.where(self.is_categorical.to(x.device), torch.zeros_like(x), x)
        if not missing.any():
            return x
        x = x.clone()
        for i in torch.nonzero(missing.any(dim=0)).flatten().tolist():
            rows = missing[:, i]
            observed = x[~rows, i]
            if observed.numel() == 0:
                x[rows, i] = 0.0
            else:
                x[rows, i] = observed[torch.arange(int(rows.sum()), device=x.device) % observed.numel()]
        return x

    def _lookup(self, x, index):
        """Table values of the categorical inputs ``index``: shape (batch, len(index), out)."""
        codes = x[:, index]
        counts = self.n_categories.to(x.device)[index]
        valid = (codes >= 0) & (codes < counts) & (codes == torch.floor(codes))
        slot = torch.where(valid, torch.nan_to_num(codes), counts.to(codes.dtype)).long()
        return self.category_value[index[None, :], :, slot]

    def special_values(self, layer, x, missing):
        """Values of the edges at missing or categorical inputs (zero elsewhere), (batch, in, out)."""
        mask = self.edge_mask(layer)
        values = missing.unsqueeze(-1).to(x.dtype) * (self.missing_value * mask)
        index = self._categorical_index()
        if index.numel():
            lookup = self._lookup(x, index) * mask[index]
            present = (~missing[:, index]).unsqueeze(-1).to(x.dtype)
            values = values.index_add(1, index, lookup * present)
        return values

    def forward(self, layer, x):
        """``layer(x)`` for inputs that may hold NaN and categorical codes."""
        missing, special = self._special(x)
        if not special.any():
            return layer.numeric_forward(x)
        clean = torch.where(special, torch.zeros_like(x), x)
        output = layer.numeric_forward(clean)
        # The spline path saw 0 at special entries: take its value there back out.
        at_zero = layer.numeric_edge_activations(torch.zeros_like(x[:1]))[0]
        output = output - special.to(x.dtype) @ at_zero
        mask = self.edge_mask(layer)
        missing_part = missing.to(x.dtype) @ (self.missing_value * mask)
        index = self._categorical_index()
        if index.numel():
            present = (~missing[:, index]).unsqueeze(-1).to(x.dtype)
            missing_part = missing_part + (self._lookup(x, index) * mask[index] * present).sum(dim=1)
        return output + missing_part

    def edge_activations(self, layer, x):
        """``layer.edge_activations(x)`` for inputs that may hold NaN and categorical codes."""
        missing, special = self._special(x)
        clean = torch.where(special, torch.zeros_like(x), x)
        activations = layer.numeric_edge_activations(clean)
        if not special.any():
            return activations
        return torch.where(special.unsqueeze(-1), self.special_values(layer, x, missing), activations)


def attach_tabular_edges(network, n_categories=None, *, generator=None):
    """Give the first layer of ``network`` missing-value and categorical edges (in place).

    Parameters
    ----------
    network : KANNetwork
    n_categories : sequence of int, optional
        Categories per input feature; 0 (the default) for a numeric feature.
    generator : torch.Generator, optional
        Draws the initial category values (see :func:`_initial_category_values`);
        they start at zero without one.

    Returns
    -------
    network : KANNetwork
    """
    layer = network.layers[0]
    dtype = layer.spline_coef.dtype
    tabular = TabularEdges(layer.in_features, layer.out_features, n_categories, dtype=dtype)
    if generator is not None and bool(tabular.is_categorical.any()):
        with torch.no_grad():
            tabular.category_value.copy_(_initial_category_values(tabular, generator))
    layer.tabular = tabular.to(layer.spline_coef.device)
    return network


def _initial_category_values(tabular, generator):
    """Random starting values of the lookup tables, spread as one-hot inputs' edges would start.

    One-hot encoded and standardised, a category of frequency ``1 / K`` is an
    input at about ``sqrt(K - 1)``, where an edge starts near its residual
    weight (uniform in ±``1 / sqrt(in_features)``) times that. The tables
    start with that spread: zero tables give every hidden node the same
    input, and the nodes separate only as fast as the next layer's weights
    tell them apart (poker hands with the 10 cards as categories, 10
    hidden nodes, three seeds: test accuracy 0.79 from zero tables, 0.91 from these).
    Values of slots beyond an input's categories stay unused until
    :func:`fill_unobserved_values` sets them.
    """
    n_inputs, n_outputs, n_slots = tabular.category_value.shape
    spread = torch.sqrt(torch.clamp(tabular.n_categories - 1, min=0).to(tabular.category_value.dtype))
    spread = spread / math.sqrt(3.0 * n_inputs)  # the standard deviation of a uniform draw in ±1/sqrt(n_inputs)
    draws = torch.randn(n_inputs, n_outputs, n_slots, generator=generator, dtype=tabular.category_value.dtype)
    return draws * spread[:, None, None]


def record_missing_inputs(network, x):
    """Mark the inputs that have missing values in ``x`` as learned from data."""
    tabular = network.layers[0].tabular
    if tabular is not None:
        with torch.no_grad():
            seen = torch.isnan(x).any(dim=0).to(tabular.missing_seen)
            tabular.missing_seen.copy_(torch.maximum(tabular.missing_seen, seen))


def fill_unobserved_values(network, x, weights):
    """Set the values training could not learn to each edge's weighted mean over ``x``.

    These are the missing values of inputs never missing in training, and
    the default slot (unknown category) of every categorical input.

    Parameters
    ----------
    network : KANNetwork
    x : torch.Tensor of shape (n_samples, n_features)
        Training inputs (or a sample of them), NaN for missing.
    weights : torch.Tensor of shape (n_samples,)
    """
    layer = network.layers[0]
    tabular = layer.tabular
    if tabular is None:
        return
    with torch.no_grad():
        observed = ~torch.isnan(x)
        activations = tabular.edge_activations(layer, x)
        mass = weights[:, None] * observed.to(x.dtype)  # (batch, in)
        total = mass.sum(dim=0)
        mean = torch.einsum("bi,bio->io", mass, torch.where(observed.unsqueeze(-1), activations, 0.0))
        mean = mean / total.clamp(min=torch.finfo(x.dtype).tiny)[:, None]
        unlearned = (tabular.missing_seen == 0) & (total > 0)
        tabular.missing_value[unlearned] = mean[unlearned].to(tabular.missing_value.dtype)
        index = tabular._categorical_index()
        if index.numel():
            slots = tabular.n_categories[index]
            tabular.category_value[index, :, slots] = mean[index].to(tabular.category_value.dtype)
