"""A KAN network as plain data (numbers, strings, numpy arrays) and back, validated.

:func:`network_to_data` writes everything a :class:`~skkan._engine.KANNetwork`
holds as a dict of plain Python values and numpy arrays: the architecture
(widths, product nodes per level, grid size, spline order, dtype) and, per layer, a fixed set of
named arrays. :func:`network_from_data` checks such a dict field by field
*before* it builds anything, so a tampered or hostile file (loaded by pickle's
``__setstate__`` or by ``skops.io``) cannot

* resolve a name: the dtype is looked up in a closed table, never with
  ``getattr``; symbolic functions are stored as indices into the engine's
  own library;
* set an attribute: only the known fields below are read, and unknown
  fields are refused;
* make skkan allocate more than the file holds: every array's shape must
  agree with the architecture, so the network built from it is no larger
  than the arrays already in memory;
* plant non-finite numbers: every floating-point array must be finite.

Any violation raises :class:`skkan.exceptions.UnsafeModelError`.
"""

import numpy as np
import torch

from ..exceptions import UnsafeModelError
from .monotone import check_monotone
from .network import KANNetwork
from .symbolic import SymbolicEdges
from .symbolic_library import SYMBOLIC_FUNCTIONS
from .tabular import TabularEdges

__all__ = ["FORMAT_VERSION", "network_from_data", "network_to_data", "validate_network_data"]

#: Version of the layout below; bumped when fields change. Version 4 has
#: ``multiplication_nodes`` and the first layer's ``tabular`` edges (missing
#: values, categories); no release wrote an earlier one. ``ensemble_size``
#: is optional (1 when absent, as written before ensembles existed).
FORMAT_VERSION = 4

# The only dtypes a saved network may name (a closed table: never getattr).
_DTYPES = {"float32": torch.float32, "float64": torch.float64}
_DTYPE_NAMES = {value: key for key, value in _DTYPES.items()}
_NETWORK_FIELDS = frozenset(
    {"format", "widths", "multiplication_nodes", "grid_size", "spline_order", "dtype", "layers"}
)
_LAYER_FIELDS = frozenset(
    {"knots", "mask", "spline_coef", "base_weight", "spline_weight", "bias", "symbolic", "tabular"}
)
_SYMBOLIC_FIELDS = frozenset({"mask", "function_index", "affine"})
_TABULAR_FIELDS = frozenset({"n_categories", "missing_seen", "missing_value", "category_value"})
# Generous limits on the architecture itself, checked before any shape
# arithmetic, so that absurd numbers are refused without overflow.
_MAX_LAYERS = 64
_MAX_WIDTH = 1_000_000
_MAX_GRID_SIZE = 100_000
_MAX_SPLINE_ORDER = 10
_MAX_CATEGORIES = 1_000_000


def _numpy(tensor):
    return tensor.detach().cpu().numpy().copy()


def network_to_data(network):
    """Plain-data description of ``network`` (see the module docstring).

    Parameters
    ----------
    network : KANNetwork

    Returns
    -------
    dict
        Only ints, strings, lists, dicts, None and numpy arrays.
    """
    layers = []
    for layer in network.layers:
        symbolic = None
        if layer.symbolic is not None:
            symbolic = {
                "mask": _numpy(layer.symbolic.mask),
                "function_index": _numpy(layer.symbolic.function_index),
                "affine": _numpy(layer.symbolic.affine),
            }
        tabular = None
        if layer.tabular is not None:
            tabular = {name: _numpy(getattr(layer.tabular, name)) for name in sorted(_TABULAR_FIELDS)}
        layers.append(
            {
                "knots": _numpy(layer.knots),
                "mask": _numpy(layer.mask),
                "spline_coef": _numpy(layer.spline_coef),
                "base_weight": _numpy(layer.base_weight),
                "spline_weight": _numpy(layer.spline_weight),
                "bias": _numpy(layer.bias),
                "symbolic": symbolic,
                "tabular": tabular,
            }
        )
    return {
        "format": FORMAT_VERSION,
        "widths": [int(width) for width in network.widths],
        "multiplication_nodes": [int(count) for count in network.multiplication_nodes],
        "ensemble_size": int(network.ensemble_size),
        "input_groups": None if network.input_groups is None else [list(group) for group in network.input_groups],
        "monotone": None if network.monotone is None else list(network.monotone),
        "grid_size": int(network.grid_size),
        "spline_order": int(network.layers[0].spline_order),
        "dtype": _DTYPE_NAMES[network.layers[0].spline_coef.dtype],
        "layers": layers,
    }


def _fail(message):
    raise UnsafeModelError(f"Refusing to load this skkan model: {message}")


def _check_fields(mapping, expected, where):
    if type(mapping) is not dict:
        _fail(f"{where} must be a dict, got {type(mapping).__name__}.")
    unknown = set(mapping) - expected
    missing = expected - set(mapping)
    if unknown:
        _fail(f"{where} has unknown field(s) {sorted(map(str, unknown))}.")
    if missing:
        _fail(f"{where} lacks field(s) {sorted(missing)}.")


def _check_int(value, name, low, high):
    if type(value) not in (int, np.int64, np.int32) or not low <= int(value) <= high:
        _fail(f"{name} must be an integer in [{low}, {high}], got {value!r}.")
    return int(value)


def _check_array(value, shape, where, kind="f"):
    if not isinstance(value, np.ndarray):
        _fail(f"{where} must be a numpy array, got {type(value).__name__}.")
    if value.dtype.kind != kind or value.dtype.hasobject:
        _fail(f"{where} has dtype {value.dtype}, expected a {'floating' if kind == 'f' else 'integer'} array.")
    if value.shape != tuple(shape):
        _fail(f"{where} has shape {value.shape}, but the architecture needs {tuple(shape)}.")
    if kind == "f" and not np.all(np.isfinite(value)):
        _fail(f"{where} contains NaN or infinite values.")
    return value


def _check_layer(data, n_in, n_out, grid_size, spline_order, where):
    _check_fields(data, _LAYER_FIELDS, where)
    n_basis = grid_size + spline_order
    knots = _check_array(data["knots"], (n_in, grid_size + 2 * spline_order + 1), f"{where}.knots")
    if np.any(np.diff(knots, axis=1) <= 0):
        _fail(f"{where}.knots must be strictly increasing along each row.")
    mask = _check_array(data["mask"], (n_in, n_out), f"{where}.mask")
    if not np.all((mask == 0) | (mask == 1)):
        _fail(f"{where}.mask must hold only 0 and 1.")
    _check_array(data["spline_coef"], (n_in, n_out, n_basis), f"{where}.spline_coef")
    for name in ("base_weight", "spline_weight"):
        _check_array(data[name], (n_in, n_out), f"{where}.{name}")
    _check_array(data["bias"], (n_out,), f"{where}.bias")
    _check_tabular(data["tabular"], n_in, n_out, f"{where}.tabular")
    symbolic = data["symbolic"]
    if symbolic is None:
        return
    _check_fields(symbolic, _SYMBOLIC_FIELDS, f"{where}.symbolic")
    symbolic_mask = _check_array(symbolic["mask"], (n_in, n_out), f"{where}.symbolic.mask")
    if not np.all((symbolic_mask == 0) | (symbolic_mask == 1)):
        _fail(f"{where}.symbolic.mask must hold only 0 and 1.")
    index = _check_array(symbolic["function_index"], (n_in, n_out), f"{where}.symbolic.function_index", kind="i")
    if np.any(index < -1) or np.any(index >= len(SYMBOLIC_FUNCTIONS)):
        _fail(f"{where}.symbolic.function_index names a function outside skkan's library.")
    if np.any((symbolic_mask != 0) & (index < 0)):
        _fail(f"{where}.symbolic has a snapped edge without a function.")
    _check_array(symbolic["affine"], (n_in, n_out, 4), f"{where}.symbolic.affine")


def _check_tabular(data, n_in, n_out, where):
    if data is None:
        return
    _check_fields(data, _TABULAR_FIELDS, where)
    counts = _check_array(data["n_categories"], (n_in,), f"{where}.n_categories", kind="i")
    if np.any(counts < 0) or np.any(counts > _MAX_CATEGORIES):
        _fail(f"{where}.n_categories must lie in [0, {_MAX_CATEGORIES}].")
    seen = _check_array(data["missing_seen"], (n_in,), f"{where}.missing_seen")
    if not np.all((seen == 0) | (seen == 1)):
        _fail(f"{where}.missing_seen must hold only 0 and 1.")
    _check_array(data["missing_value"], (n_in, n_out), f"{where}.missing_value")
    n_slots = int(counts.max()) + 1 if n_in else 1
    _check_array(data["category_value"], (n_in, n_out, n_slots), f"{where}.category_value")


def _check_groups(groups, widths, ensemble_size):
    """The saved interaction groups: None, or lists of input indices that the hidden widths can hold."""
    if groups is None:
        return None
    if type(groups) is not list or not 1 <= len(groups) <= _MAX_WIDTH:
        _fail(f"input_groups must be None or a non-empty list of groups, got {type(groups).__name__}.")
    for group in groups:
        if type(group) is not list or not 1 <= len(group) <= widths[0]:
            _fail(f"every interaction group must be a list of 1 to {widths[0]} input indices.")
        for index in group:
            _check_int(index, "every interaction group index", 0, widths[0] - 1)
    if any(width // ensemble_size < len(groups) for width in widths[1:-1]):
        _fail(f"{len(groups)} interaction groups do not fit the hidden widths {widths[1:-1]}.")
    return groups


def validate_network_data(data):
    """Check a plain-data network description; raise :class:`UnsafeModelError` if it is not sound.

    Returns
    -------
    dict
        The architecture: ``widths``, ``multiplication_nodes``, ``ensemble_size``, ``grid_size``,
        ``spline_order`` and the torch ``dtype``.
    """
    version = data.get("format") if type(data) is dict else None
    if type(version) is not int or version != FORMAT_VERSION:
        _fail(f"network format {version!r} is not {FORMAT_VERSION}; it was written by another skkan version.")
    # ensemble_size, input_groups and monotone are optional (files from before they existed lack them).
    optional = ("ensemble_size", "input_groups", "monotone")
    _check_fields({k: v for k, v in data.items() if k not in optional}, _NETWORK_FIELDS, "the network")
    widths = data["widths"]
    if type(widths) is not list or not 2 <= len(widths) <= _MAX_LAYERS + 1:
        _fail(f"widths must be a list of 2 to {_MAX_LAYERS + 1} integers, got {widths!r}.")
    widths = [_check_int(width, "every width", 1, _MAX_WIDTH) for width in widths]
    products = data.get("multiplication_nodes", [0] * len(widths))
    if type(products) is not list or len(products) != len(widths):
        _fail(f"multiplication_nodes must be a list of {len(widths)} integers, got {products!r}.")
    products = [_check_int(count, "every product-node count", 0, width) for count, width in zip(products, widths)]
    if products[0] or products[-1]:
        _fail("multiplication_nodes must be zero for the inputs and the outputs.")
    ensemble_size = _check_int(data.get("ensemble_size", 1), "ensemble_size", 1, _MAX_WIDTH)
    if any(width % ensemble_size for width in widths[1:]) or (ensemble_size > 1 and any(products)):
        _fail(f"ensemble_size {ensemble_size} does not divide the widths {widths[1:]} (or the network has products).")
    input_groups = _check_groups(data.get("input_groups"), widths, ensemble_size)
    monotone = data.get("monotone")
    if monotone is not None:
        if type(monotone) is not list or len(monotone) != widths[0] or any(products):
            _fail(f"monotone must be None or a list of {widths[0]} directions (and the network has no products).")
        monotone = [_check_int(direction, "every monotone direction", -1, 1) for direction in monotone]
    grid_size = _check_int(data["grid_size"], "grid_size", 1, _MAX_GRID_SIZE)
    spline_order = _check_int(data["spline_order"], "spline_order", 1, _MAX_SPLINE_ORDER)
    if type(data["dtype"]) is not str or data["dtype"] not in _DTYPES:
        _fail(f"dtype must be one of {sorted(_DTYPES)}, got {data['dtype']!r}.")
    layers = data["layers"]
    if type(layers) is not list or len(layers) != len(widths) - 1:
        _fail(f"the network has {len(widths) - 1} layers by its widths, but the data holds {len(layers)}.")
    for index, (layer, n_in, n_out, n_products) in enumerate(zip(layers, widths[:-1], widths[1:], products[1:])):
        # A product node has two subnodes: the layer has one output per subnode.
        _check_layer(layer, n_in, n_out + n_products, grid_size, spline_order, f"layer {index}")
    return {
        "widths": widths,
        "multiplication_nodes": products,
        "ensemble_size": ensemble_size,
        "input_groups": input_groups,
        "monotone": monotone,
        "grid_size": grid_size,
        "spline_order": spline_order,
        "dtype": _DTYPES[data["dtype"]],
    }


def _copy_into(tensor, array):
    with torch.no_grad():
        # A copy: the array may be a read-only memmap (joblib), which torch will not wrap.
        tensor.copy_(torch.from_numpy(np.array(array, order="C")))


def network_from_data(data):
    """Rebuild the CPU network described by :func:`network_to_data`, after validating it.

    Raises
    ------
    skkan.exceptions.UnsafeModelError
        If the data is not a sound network description.
    """
    architecture = validate_network_data(data)
    dtype = architecture["dtype"]
    # The shapes were checked against the architecture: the network built
    # here is no larger than the arrays already in memory. A private
    # generator keeps the global torch RNG untouched.
    network = KANNetwork(
        architecture["widths"],
        architecture["grid_size"],
        architecture["spline_order"],
        generator=torch.Generator().manual_seed(0),
        dtype=dtype,
        multiplication_nodes=architecture["multiplication_nodes"],
        ensemble_size=architecture["ensemble_size"],
        input_groups=architecture["input_groups"],
        monotone=architecture["monotone"],
    )
    for index, (layer, layer_data) in enumerate(zip(network.layers, data["layers"])):
        # No edge may join what the architecture keeps apart (ensemble members, interaction groups).
        absent = ~network.connections(index).numpy()
        symbolic = layer_data["symbolic"]
        if np.any(layer_data["mask"][absent] != 0) or (symbolic is not None and np.any(symbolic["mask"][absent] != 0)):
            _fail(f"layer {index} has edges between ensemble members or interaction groups that cannot meet.")
        for name in ("knots", "mask", "spline_coef", "base_weight", "spline_weight", "bias"):
            _copy_into(getattr(layer, name), layer_data[name])
        tabular = layer_data["tabular"]
        if tabular is not None:
            layer.tabular = TabularEdges(layer.in_features, layer.out_features, tabular["n_categories"], dtype=dtype)
            for name in ("missing_seen", "missing_value", "category_value"):
                _copy_into(getattr(layer.tabular, name), tabular[name])
        symbolic = layer_data["symbolic"]
        if symbolic is not None:
            layer.symbolic = SymbolicEdges(layer.in_features, layer.out_features, dtype=dtype)
            _copy_into(layer.symbolic.mask, symbolic["mask"])
            _copy_into(layer.symbolic.function_index, symbolic["function_index"].astype(np.int64))
            _copy_into(layer.symbolic.affine, symbolic["affine"])
    if not check_monotone(network):
        _fail("the network's edges break its monotone constraints.")
    return network
