"""Saving and loading fitted estimators: pickle, joblib and skops.

A fitted estimator is saved without any torch object: every
:class:`~skkan._engine.KANNetwork` among its attributes becomes a small spec
(layer widths, grid size, spline order) plus numpy copies of all parameters
and buffers (knots, pruning mask, ...) and of any plain attributes a layer
carries. Loading rebuilds the network on the CPU. This makes saved models

* independent of the device they were trained on (a model fitted on CUDA
  loads on a CPU-only machine),
* loadable with :func:`skops.io.load`, which refuses arbitrary objects: see
  :func:`get_trusted_types`,
* stamped with the skkan version that wrote them; loading with another
  version warns.
"""

import warnings

import numpy as np
import torch
from torch import nn

from ._engine import KANNetwork
from ._version import __version__

__all__ = ["get_trusted_types", "dump_state", "load_state"]

_NETWORK_KEY = "__skkan_network__"
_TENSOR_KEY = "__skkan_tensor__"
_DTYPE_KEY = "__skkan_dtype__"
_FORMAT = 1
# Attributes every nn.Module has; anything else in a module's __dict__ is a
# plain attribute the layer or network set itself (widths, flags, ...).
_MODULE_INTERNALS = frozenset(nn.Module().__dict__)


def get_trusted_types():
    """Types to pass to ``skops.io.load(..., trusted=...)`` for skkan models.

    A fitted skkan estimator is stored by skops as its class plus numpy
    arrays, lists, dicts, strings and numbers; only the estimator classes
    themselves are not trusted by skops by default.

    Returns
    -------
    list of str
        Fully qualified names of the skkan estimator classes.

    Examples
    --------
    >>> import numpy as np
    >>> import skops.io as sio
    >>> from skkan import KANRegressor, get_trusted_types
    >>> X = np.linspace(-1, 1, 40).reshape(-1, 1)
    >>> reg = KANRegressor(hidden_layer_sizes=(2,), max_iter=5, random_state=0).fit(X, X[:, 0] ** 2)
    >>> data = sio.dumps(reg)
    >>> set(sio.get_untrusted_types(data=data)) <= set(get_trusted_types())
    True
    >>> loaded = sio.loads(data, trusted=get_trusted_types())
    >>> bool(np.allclose(loaded.predict(X), reg.predict(X)))
    True
    """
    return ["skkan._classifier.KANClassifier", "skkan._regressor.KANRegressor"]


def _to_plain(value):
    """``value`` with every network, tensor and torch dtype inside it made torch-free.

    Plain dicts, lists and tuples are walked, so attributes such as a dict of
    per-edge tensors are converted too; anything else is kept as it is.
    """
    if isinstance(value, KANNetwork):
        return network_to_spec(value)
    if isinstance(value, torch.Tensor):
        return {_TENSOR_KEY: value.detach().cpu().numpy().copy()}
    if isinstance(value, torch.dtype):
        return {_DTYPE_KEY: str(value).removeprefix("torch.")}
    if type(value) is dict:
        return {key: _to_plain(item) for key, item in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_to_plain(item) for item in value)
    return value


def _from_plain(value):
    """Inverse of :func:`_to_plain`."""
    if type(value) is dict:
        if _NETWORK_KEY in value:
            return spec_to_network(value)
        if len(value) == 1 and _TENSOR_KEY in value:
            return torch.from_numpy(np.array(value[_TENSOR_KEY]))
        if len(value) == 1 and _DTYPE_KEY in value:
            return getattr(torch, value[_DTYPE_KEY])
        return {key: _from_plain(item) for key, item in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_from_plain(item) for item in value)
    return value


def _module_attributes(module):
    return {name: _to_plain(value) for name, value in module.__dict__.items() if name not in _MODULE_INTERNALS}


def _module_tensors(module):
    """Parameters and buffers owned directly by ``module`` (not by its children)."""
    tensors = {}
    for name, param in module._parameters.items():
        if param is not None:
            tensors[name] = {
                "value": param.detach().cpu().numpy().copy(),
                "parameter": True,
                "requires_grad": bool(param.requires_grad),
            }
    for name, buffer in module._buffers.items():
        if buffer is not None:
            tensors[name] = {
                "value": buffer.detach().cpu().numpy().copy(),
                "parameter": False,
                "persistent": name not in module._non_persistent_buffers_set,
            }
    return tensors


def _submodule_state(module):
    """State-dict entries of ``module``'s child modules (e.g. snapped symbolic edges).

    Its own parameters and buffers are in :func:`_module_tensors`; children are
    created after construction, and a layer rebuilds them from these keys
    when the entries are loaded (see ``KANLayer._load_from_state_dict``).
    """
    own = set(module._parameters) | set(module._buffers)
    return {
        name: tensor.detach().cpu().numpy().copy() for name, tensor in module.state_dict().items() if name not in own
    }


def network_to_spec(network):
    """A torch-free description of ``network`` from which :func:`spec_to_network` rebuilds it."""
    return {
        _NETWORK_KEY: _FORMAT,
        "widths": [int(w) for w in network.widths],
        "grid_size": int(network.grid_size),
        "spline_order": int(network.layers[0].spline_order),
        "dtype": str(next(network.parameters()).dtype).removeprefix("torch."),
        "attributes": _module_attributes(network),
        "tensors": _module_tensors(network),
        "layers": [
            {
                "attributes": _module_attributes(layer),
                "tensors": _module_tensors(layer),
                "submodules": _submodule_state(layer),
            }
            for layer in network.layers
        ],
    }


def _restore_module(module, attributes, tensors):
    for name, value in attributes.items():
        setattr(module, name, _from_plain(value))
    for name, entry in tensors.items():
        tensor = torch.from_numpy(np.array(entry["value"]))
        if entry["parameter"]:
            module._parameters.pop(name, None)
            module.register_parameter(name, nn.Parameter(tensor, requires_grad=entry.get("requires_grad", True)))
        else:
            module._buffers.pop(name, None)
            module.register_buffer(name, tensor, persistent=entry.get("persistent", True))


def spec_to_network(spec):
    """Rebuild the CPU network described by :func:`network_to_spec`."""
    if spec.get(_NETWORK_KEY) != _FORMAT:
        raise ValueError(f"Unknown skkan network format {spec.get(_NETWORK_KEY)!r}; it was saved by a newer skkan.")
    # A private generator: rebuilding must not consume the global torch RNG.
    network = KANNetwork(
        spec["widths"],
        spec["grid_size"],
        spec["spline_order"],
        generator=torch.Generator().manual_seed(0),
        dtype=getattr(torch, spec["dtype"]),
    )
    _restore_module(network, spec["attributes"], spec["tensors"])
    for layer, layer_spec in zip(network.layers, spec["layers"]):
        _restore_module(layer, layer_spec["attributes"], layer_spec["tensors"])
        submodules = layer_spec.get("submodules")
        if submodules:
            # Only child-module keys are given: the layer's own tensors are set above.
            state = {name: torch.from_numpy(np.array(value)) for name, value in submodules.items()}
            unexpected = layer.load_state_dict(state, strict=False).unexpected_keys
            if unexpected:
                raise ValueError(f"Saved layer state {unexpected} does not fit this skkan version's KANLayer.")
    return network


def dump_state(state):
    """An estimator's ``__getstate__`` dict with its networks (and any tensors) made torch-free."""
    return {name: _to_plain(value) for name, value in state.items()}


def load_state(state, estimator_name):
    """Rebuild networks in a saved state and warn about version or device changes.

    Older pickles that hold the network itself are accepted unchanged.
    """
    saved = state.get("_skkan_version")
    if saved is not None and saved != __version__:
        warnings.warn(
            f"This {estimator_name} was saved with skkan {saved} and is loaded with skkan {__version__}; "
            "results may differ. Refit it with this version if possible.",
            UserWarning,
        )
    device = state.get("device_")
    if isinstance(device, str) and device.startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(
            f"This {estimator_name} was fitted on {device}, which is not available here; it was loaded on the CPU "
            "and will predict there.",
            UserWarning,
        )
    return {name: _from_plain(value) for name, value in state.items()}
