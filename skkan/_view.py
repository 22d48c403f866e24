"""A read-only public view of a fitted KAN estimator, for interpretation tools.

:class:`FittedKAN` is what :mod:`skkan.interpret` (and any user code) reads
from a fitted :class:`~skkan.KANRegressor` or :class:`~skkan.KANClassifier`:
the network's architecture and numbers, input and target scaling, feature and
output names, and a small weighted sample of the (scaled) training inputs.
Array properties return copies, so changing them never changes the model.
"""

import numpy as np
import torch

from ._labels import encode_labels
from ._tabular import validate_tabular_data

__all__ = ["FittedKAN"]


def _numpy(tensor):
    return tensor.detach().cpu().to(torch.float64).numpy().copy()


class FittedKAN:
    """Read-only view of a fitted KAN estimator (see ``estimator.fitted_view_``).

    Layer ``l`` maps the ``widths[l]`` nodes of level ``l`` (level 0: the
    standardised input features) to the ``widths[l + 1]`` nodes of level
    ``l + 1``. A level may end with product nodes
    (:attr:`multiplication_nodes`): layer ``l`` then has one output
    (*subnode*) per sum node and two per product node, and a product node is
    the product of its two subnodes (:meth:`subnode_nodes`). Edge
    ``(l, i, j)`` runs from node ``i`` of level ``l`` to subnode ``j`` of
    layer ``l`` and computes
    ``mask * (base_weight * silu(x) + spline_weight * sum_m coef_m B_m(x))``,
    plus, where the edge was snapped, ``c * f(a * x + b) + d``.

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
        A fitted estimator.
    network : KANNetwork
        Its network; ``network_`` by default.
    """

    def __init__(self, estimator, network=None):
        self._estimator = estimator
        self._network = estimator.network_ if network is None else network

    # ------------------------------------------------------------------
    # Architecture and numbers
    # ------------------------------------------------------------------
    @property
    def network(self):
        """The torch network (``KANNetwork``). Copy it before changing it."""
        return self._network

    @property
    def widths(self):
        """Nodes per level, inputs first: list of int."""
        return list(self._network.widths)

    @property
    def ensemble_size(self):
        """Networks packed into this one (``ensemble_size``); predictions are their mean."""
        return int(getattr(self._network, "ensemble_size", 1))

    @property
    def multiplication_nodes(self):
        """Product nodes per level (the last ones of the level), inputs first: list of int."""
        return list(self._network.multiplication_nodes)

    def n_subnodes(self, layer):
        """Number of outputs of ``layer``: one per sum node and two per product node of the next level."""
        return int(self._network.layers[layer].out_features)

    def subnode_nodes(self, layer):
        """Node of level ``layer + 1`` that each output of ``layer`` feeds, int array of shape (n_subnodes,)."""
        return self._network.subnode_map(layer).numpy().copy()

    def is_product_node(self, level, k):
        """Whether node ``k`` of level ``level`` is a product node."""
        return k >= self.widths[level] - self.multiplication_nodes[level]

    def with_network(self, network):
        """The same view over another network of the same shape (e.g. a changed copy)."""
        return FittedKAN(self._estimator, network)

    def edge_function(self, layer, i, j):
        """Edge ``(layer, i, j)`` as a numpy function of its input (standardised units in layer 0)."""
        current = self._network.layers[layer]
        dtype = current.mask.dtype

        def evaluate(values):
            values = np.asarray(values, dtype=np.float64)
            flat = torch.as_tensor(values.reshape(-1), dtype=dtype)
            points = torch.zeros(flat.shape[0], current.in_features, dtype=dtype)
            points[:, i] = flat
            with torch.no_grad():
                result = current.edge_activations(points)[:, i, j]
            return _numpy(result).reshape(values.shape)

        return evaluate

    @property
    def n_layers(self):
        """Number of layers (``len(widths) - 1``)."""
        return len(self._network.layers)

    @property
    def grid_size(self):
        """Grid intervals of every spline."""
        return int(self._network.grid_size)

    @property
    def spline_order(self):
        """Order of the B-splines."""
        return int(self._network.layers[0].spline_order)

    def knots(self, layer):
        """Knot vectors of ``layer``, shape (in, grid_size + 2 * spline_order + 1), standardised units."""
        return _numpy(self._network.layers[layer].knots)

    def coefficients(self, layer):
        """Spline coefficients of ``layer``, shape (in, out, grid_size + spline_order)."""
        return _numpy(self._network.layers[layer].spline_coef)

    def edge_weights(self, layer):
        """``(base_weight, spline_weight)`` of ``layer``, each of shape (in, out)."""
        current = self._network.layers[layer]
        return _numpy(current.base_weight), _numpy(current.spline_weight)

    def bias(self, layer):
        """Biases of the outputs (subnodes) of ``layer``, shape (n_subnodes,)."""
        return _numpy(self._network.layers[layer].bias)

    def allowed_edges(self, layer):
        """Boolean (in, out): the edges the architecture has, pruned or not.

        Ensemble members, and the feature groups of ``interaction_cst``,
        never share an edge; no edge outside these may be snapped or
        restored.
        """
        return self._network.connections(layer).numpy().copy()

    @property
    def interaction_groups(self):
        """Groups of input features that may interact (``interaction_cst``), or None for no constraint."""
        groups = self._network.input_groups
        return None if groups is None else [list(group) for group in groups]

    @property
    def monotone_directions(self):
        """One of -1, 0, 1 per input feature (``monotonic_cst``), or None without constraints."""
        monotone = self._network.monotone
        return None if monotone is None else list(monotone)

    def monotone_edges(self, layer):
        """Boolean (in, out): edges of ``layer`` that must stay monotone (they cannot be snapped to a formula)."""
        requirements = self._network.monotone_requirements
        if requirements is None:
            return np.zeros((self.widths[layer], self.n_subnodes(layer)), dtype=bool)
        return requirements[layer].numpy() != 0

    def spline_mask(self, layer):
        """Boolean (in, out): edges that still carry a spline (not pruned, not snapped)."""
        return _numpy(self._network.layers[layer].mask) != 0

    def symbolic_edges(self, layer):
        """Snapped edges of ``layer``: dict ``(i, j) -> (name, (a, b, c, d))``."""
        symbolic = self._network.layers[layer].symbolic
        if symbolic is None:
            return {}
        names, mask, affine = symbolic.names, _numpy(symbolic.mask), _numpy(symbolic.affine)
        return {
            (i, j): (names[i][j], tuple(float(v) for v in affine[i, j]))
            for i, j in zip(*np.nonzero(mask))
            if names[i][j] is not None
        }

    def active_edges(self, layer):
        """Edges of ``layer`` that compute something (spline or symbolic), as ``(i, j)`` pairs."""
        active = self.spline_mask(layer)
        for i, j in self.symbolic_edges(layer):
            active[i, j] = True
        return [(int(i), int(j)) for i, j in zip(*np.nonzero(active))]

    # ------------------------------------------------------------------
    # Missing values and categorical inputs (first layer)
    # ------------------------------------------------------------------
    @property
    def missing_values(self):
        """Value of each first-layer edge for a missing input, shape (n_features, widths[1]).

        Learned where the training data had NaN for the feature, else the
        edge's mean value over the training data (see ``missing_learned``);
        zero on pruned edges. A formula carries it as a piecewise term:
        ``phi_ij(x_i)`` where ``x_i`` is present, this value where it is NaN.
        """
        layer = self._network.layers[0]
        if layer.tabular is None:
            return np.zeros(self.widths[:2])
        return _numpy(layer.tabular.missing_value * layer.tabular.edge_mask(layer))

    @property
    def missing_learned(self):
        """Boolean (n_features,): inputs whose missing values were learned from NaN in training data."""
        tabular = self._network.layers[0].tabular
        if tabular is None:
            return np.zeros(self.widths[0], dtype=bool)
        return _numpy(tabular.missing_seen) != 0

    @property
    def is_categorical(self):
        """Boolean (n_features,): inputs with a lookup-table edge instead of a spline."""
        mask = self._estimator._input_encoding.is_categorical
        return np.zeros(self.widths[0], dtype=bool) if mask is None else np.array(mask, dtype=bool)

    def categories(self, feature):
        """Sorted categories of a categorical input (codes are their positions), else None."""
        categories = self._estimator._input_encoding.categories
        return None if categories is None or categories[feature] is None else np.array(categories[feature])

    def category_values(self, feature):
        """Values of the first-layer edges of a categorical input, shape (n_categories + 1, widths[1]).

        Row ``k`` is category ``categories(feature)[k]``; the last row is the
        default an unknown category gets. A formula carries them as indicator
        terms ``sum_k value_k * [x == category_k]``.

        Raises
        ------
        ValueError
            If ``feature`` is not categorical.
        """
        if not self.is_categorical[feature]:
            raise ValueError(f"Feature {feature} is not categorical.")
        layer = self._network.layers[0]
        n_categories = int(layer.tabular.n_categories[feature])
        mask = layer.tabular.edge_mask(layer)[feature][:, None]
        values = layer.tabular.category_value[feature, :, : n_categories + 1] * mask
        return _numpy(values).T

    # ------------------------------------------------------------------
    # Scaling and names
    # ------------------------------------------------------------------
    @property
    def input_mean(self):
        """Per-feature centre subtracted before the network, shape (n_features,)."""
        return self._estimator._input_encoding.mean.copy()

    @property
    def input_scale(self):
        """Per-feature scale divided out before the network, shape (n_features,)."""
        return self._estimator._input_encoding.scale.copy()

    @property
    def input_encoding(self):
        """What a validated row goes through before the network, as plain data (a dict of copies).

        Keys: ``mean`` and ``scale`` (standardisation), ``input_range``
        (shape (2, n_features): the standardised training range that
        ``extrapolation="constant"`` holds inputs within, NaN for no limit;
        None for old models), ``categories`` (per feature, the sorted
        categories whose positions are the codes, None for a numeric
        feature; None without categorical features) and ``format``.
        """
        return self._estimator._input_encoding.to_data()

    @property
    def extrapolation(self):
        """The estimator's ``extrapolation``: "constant" holds inputs within the training range."""
        return self._estimator.extrapolation

    @property
    def target_mean(self):
        """Per-output centre added to the network output (regression), else None."""
        mean = getattr(self._estimator, "_target_mean", None)
        return None if mean is None else np.array(mean, dtype=np.float64).ravel()

    @property
    def target_scale(self):
        """Per-output scale the network output is multiplied by (regression), else None."""
        scale = getattr(self._estimator, "_target_scale", None)
        return None if scale is None else np.array(scale, dtype=np.float64).ravel()

    @property
    def target_link(self):
        """``"log"`` when regression outputs are the log of the predicted mean (Poisson, Gamma), else ``"identity"``."""
        if self.is_classifier:
            return "identity"
        return "log" if self._estimator._fitted_loss().log_link else "identity"

    @property
    def is_classifier(self):
        """Whether the outputs are logits of a classifier."""
        return self.classes is not None

    @property
    def classes(self):
        """Class labels of a classifier, else None."""
        classes = getattr(self._estimator, "classes_", None)
        return None if classes is None else np.array(classes)

    @property
    def feature_names(self):
        """Input feature names: ``feature_names_in_`` as strings, else ``x0, x1, ...``."""
        names = getattr(self._estimator, "feature_names_in_", None)
        if names is None:
            return [f"x{i}" for i in range(self.widths[0])]
        return [str(name) for name in names]

    @property
    def output_names(self):
        """Names of the last layer's nodes: targets, or the logits of classes (``[m]``: ensemble member ``m``)."""
        n_outputs = self._network.n_outputs
        classes = self.classes
        if classes is not None:
            names = [f"logit({classes[1]})"] if n_outputs == 1 else [f"logit({c})" for c in classes]
        else:
            names = ["y"] if n_outputs == 1 else [f"y{k}" for k in range(n_outputs)]
        if self.ensemble_size == 1:
            return names
        return [f"{name}[{member}]" for member in range(self.ensemble_size) for name in names]

    def encode(self, X):
        """Validate raw inputs as ``predict`` does, in original units: float64 array.

        Categorical columns become their codes (positions in
        :meth:`categories`, -1 for a category ``fit`` never saw), missing
        entries NaN; numeric columns are unchanged. This is the ``X`` a
        formula's numpy function (``symbolic_function``) evaluates.
        """
        X, _ = validate_tabular_data(self._estimator, X, reset=False)
        return np.asarray(X, dtype=np.float64)

    def standardize(self, X):
        """Validate raw inputs as ``predict`` does and standardise them, float64 array."""
        X, _ = validate_tabular_data(self._estimator, X, reset=False)
        return self._estimator._input_encoding.standardize(X)

    def network_inputs(self, X):
        """Validate raw inputs as ``predict`` does: what the network receives, float64 array.

        Standardised, and held within the training range where
        ``extrapolation="constant"``; categorical codes and NaN pass as
        :meth:`encode` gives them.
        """
        X, _ = validate_tabular_data(self._estimator, X, reset=False, ensure_min_samples=0)
        return np.asarray(self._estimator._network_inputs(X), dtype=np.float64)

    @property
    def single_output(self):
        """Whether ``predict`` (``decision_function`` for classifiers) returns one value per row, a 1-D array."""
        if self.is_classifier:
            return self._network.n_outputs == 1
        return getattr(self._estimator, "_y_ndim", 1) == 1

    def encode_targets(self, y, n_samples):
        """Targets in the form the network was trained on, and its loss (an engine ``Loss``).

        Regression targets go to the training units of the fit (see
        ``skkan._regression_targets``) with the fitted loss; class labels
        become class indices (loss ``"log_loss"``) or 0/1 (``"binary_log_loss"``).

        Raises
        ------
        ValueError
            If ``y`` has the wrong length or shape, is not finite (regression),
            or holds labels the classifier never saw.
        """
        y = np.asarray(y)
        if y.shape[0] != n_samples:
            raise ValueError(f"y has {y.shape[0]} rows but X has {n_samples}.")
        classes = self.classes
        if classes is not None:
            if y.ndim != 1:
                raise ValueError(f"y must be a 1-D array of class labels, got shape {y.shape}.")
            targets, _, loss = encode_labels(
                y,
                classes,
                lambda unseen: (
                    f"y contains labels the classifier was not fitted on: {unseen}; known classes are "
                    f"{classes.tolist()}."
                ),
            )
            return targets, loss
        return self._estimator._training_targets(y)

    def to_original_units(self, feature, values):
        """Map standardised values of input ``feature`` back to its original units."""
        return np.asarray(values) * self.input_scale[feature] + self.input_mean[feature]

    # ------------------------------------------------------------------
    # The training sample kept for interpretation
    # ------------------------------------------------------------------
    @property
    def sample_inputs(self):
        """Standardised training rows kept at fit time (at most 2000), float64."""
        return np.array(self._estimator._interpretation_sample, dtype=np.float64)

    @property
    def sample_weights(self):
        """Sample weights of :attr:`sample_inputs`."""
        return np.array(self._estimator._interpretation_weights, dtype=np.float64)

    @property
    def state_fingerprint(self):
        """A hashable value that changes whenever the fitted state does.

        That is, when a tensor of the network changes in place (training,
        pruning, a snapped edge) or is replaced, or a fit replaces the kept
        sample. Interpretation tools key caches of derived values on it.
        """
        tensors = self._network.state_dict(keep_vars=True).values()
        sample = (id(self._estimator._interpretation_sample), id(self._estimator._interpretation_weights))
        return tuple((id(tensor), tensor._version) for tensor in tensors), sample

    def sample_tensors(self, network=None):
        """:attr:`sample_inputs` and :attr:`sample_weights` as tensors in ``network``'s dtype."""
        network = self._network if network is None else network
        dtype = next(network.parameters()).dtype
        return (
            torch.as_tensor(self._estimator._interpretation_sample, dtype=dtype),
            torch.as_tensor(self._estimator._interpretation_weights, dtype=dtype),
        )

    def layer_inputs(self, network=None):
        """Inputs of every layer on the sample (last entry: the outputs), and the sample weights."""
        network = self._network if network is None else network
        x, weights = self.sample_tensors(network)
        return network.layer_inputs(x), weights

    def check_edge(self, layer, i, j):
        """Raise a ValueError unless ``(layer, i, j)`` is an edge of the network."""
        if not (isinstance(layer, (int, np.integer)) and 0 <= layer < self.n_layers):
            raise ValueError(f"layer must be an integer in [0, {self.n_layers - 1}], got {layer!r}.")
        n_in, n_out = self.widths[layer], self.n_subnodes(layer)
        if not (isinstance(i, (int, np.integer)) and isinstance(j, (int, np.integer))):
            raise ValueError(f"Edge indices must be integers, got ({i!r}, {j!r}).")
        if not (0 <= i < n_in and 0 <= j < n_out):
            raise ValueError(f"Edge ({i}, {j}) does not exist in layer {layer} of shape ({n_in}, {n_out}).")
