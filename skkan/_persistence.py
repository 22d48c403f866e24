"""Saving and loading fitted estimators: pickle, joblib and skops.

A fitted estimator is saved without any torch object: its network becomes
plain data (numbers, strings and numpy arrays, see
:mod:`skkan._engine.serialization`). Loading checks the whole state before
anything is built:

* only known attribute names are accepted: the constructor parameters,
  public fitted attributes (``name_``), and a fixed list of private ones;
  no name may shadow a method or property of the class;
* the network description is validated field by field by the engine
  (closed dtype table, shapes that agree with the architecture, finite
  numbers), so nothing named in the file is resolved and nothing larger
  than the file is allocated;
* the input encoding (:class:`skkan._encoding.InputEncoding`: scaling,
  training range, categories) is validated from its plain-data form, and it,
  the target scaling and the class labels must agree with the network;
  models written before the encoding existed (separate ``_input_mean``,
  ``_input_scale``, ``_input_range``, ``is_categorical_`` and
  ``categories_``) are read into one and checked the same way;
* a model fitted on a device this machine lacks loads on the CPU, with a
  warning, and a model saved by another skkan version loads with a warning.

Any violation raises :class:`skkan.exceptions.UnsafeModelError`. What this
does *not* guarantee: :mod:`pickle` and :mod:`joblib` run code named in a
file before skkan sees anything, so only load pickles you trust; use
:func:`skops.io.load` with :func:`get_trusted_types` for files from
elsewhere.
"""

import inspect
import warnings

import numpy as np

from ._encoding import InputEncoding
from ._engine.device import usable_device
from ._engine.network import KANNetwork
from ._engine.serialization import network_from_data, network_to_data
from ._regression_targets import loss_from_state
from ._version import __version__
from .exceptions import UnsafeModelError

__all__ = ["dump_state", "get_trusted_types", "load_state"]

_NETWORK_KEY = "__skkan_network__"
_ENCODING_KEY = "__skkan_input_encoding__"
# How models saved before the input encoding existed held it.
_LEGACY_ENCODING = {
    "_input_mean": "mean",
    "_input_scale": "scale",
    "_input_range": "input_range",
    "categories_": "categories",
}


def get_trusted_types():
    """Types to pass to ``skops.io.load(..., trusted=...)`` for skkan models.

    A fitted skkan estimator is stored by skops as its class plus numpy
    arrays, lists, dicts, strings and numbers; only the estimator classes
    themselves and numpy's dtype objects (which skops does not trust by
    default) are listed. Loading still validates the whole state (see
    :mod:`skkan._persistence`).

    Returns
    -------
    list of str
        Fully qualified names of the types skkan estimators need.

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
    return ["numpy.dtype", "skkan._classifier.KANClassifier", "skkan._regressor.KANRegressor"]


def dump_state(state):
    """An estimator's ``__getstate__`` dict with its network and input encoding made plain data."""
    state = dict(state)
    network = state.get("network_")
    if isinstance(network, KANNetwork):
        state["network_"] = {_NETWORK_KEY: network_to_data(network)}
    encoding = state.get("_input_encoding")
    if isinstance(encoding, InputEncoding):
        state["_input_encoding"] = {_ENCODING_KEY: encoding.to_data()}
    return state


def _legacy_encoding(state):
    """A state saved before the input encoding existed, with its separate attributes made one encoding."""
    if not any(name in state for name in _LEGACY_ENCODING) or "_input_encoding" in state:
        return state
    state = dict(state)
    data = {"format": 1, "input_range": None, "categories": None}
    for old, new in _LEGACY_ENCODING.items():
        if old in state:
            data[new] = state.pop(old)
    state.pop("is_categorical_", None)  # the categories say which inputs are categorical
    state["_input_encoding"] = {_ENCODING_KEY: data}
    return state


def _fail(message):
    raise UnsafeModelError(f"Refusing to load this skkan model: {message}")


def _check_names(state, estimator_class, private_names):
    parameters = set(inspect.signature(estimator_class.__init__).parameters) - {"self"}
    for name in state:
        if type(name) is not str:
            _fail(f"attribute names must be strings, got {name!r}.")
        known = name in parameters or name in private_names or (name.endswith("_") and not name.startswith("_"))
        if not known:
            _fail(f"unknown attribute {name!r}.")
        if name not in parameters and hasattr(estimator_class, name):
            # Would shadow a method or property of the class.
            _fail(f"attribute {name!r} would shadow {estimator_class.__name__}.{name}.")


def _float_array(state, name, shape, positive=False, allow_nan=False):
    value = state.get(name)
    if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
        _fail(f"{name} must be a floating-point numpy array.")
    if value.size != int(np.prod(shape)):
        _fail(f"{name} has shape {value.shape}, but the network needs {shape}.")
    checked = value[~np.isnan(value)] if allow_nan else value
    if not np.all(np.isfinite(checked)) or (positive and not np.all(value > 0)):
        _fail(f"{name} must be finite{' and positive' if positive else ''}.")


def _check_fitted_state(state, network):
    n_features, n_outputs = network.widths[0], network.n_outputs
    if state.get("n_features_in_", n_features) != n_features:
        _fail(f"n_features_in_={state['n_features_in_']!r} disagrees with the network's {n_features} inputs.")
    if "_target_mean" in state or "_target_scale" in state:
        _float_array(state, "_target_mean", (n_outputs,))
        _float_array(state, "_target_scale", (n_outputs,), positive=True)
    if "_training_loss" in state:
        try:
            loss_from_state(state["_training_loss"], n_outputs)
        except ValueError as error:
            _fail(str(error))
    if "classes_" in state:
        classes = state["classes_"]
        if not isinstance(classes, np.ndarray) or classes.ndim != 1:
            _fail("classes_ must be a 1-D numpy array.")
        expected = 1 if classes.size == 2 else classes.size
        if classes.size < 2 or expected != n_outputs:
            _fail(f"{classes.size} classes do not fit a network with {n_outputs} outputs.")
    sample = state.get("_interpretation_sample")
    if sample is not None:
        if not isinstance(sample, np.ndarray) or sample.ndim != 2 or sample.shape[1] != n_features:
            _fail("_interpretation_sample must be an array with one column per input feature.")
        # NaN marks a missing input in the training sample.
        _float_array(state, "_interpretation_sample", sample.shape, allow_nan=True)
        _float_array(state, "_interpretation_weights", (sample.shape[0],))


def _loaded_encoding(saved, network):
    """The input encoding of a saved state, validated and checked against ``network``."""
    if type(saved) is not dict or set(saved) != {_ENCODING_KEY}:
        _fail("_input_encoding is not an input encoding written by skkan.")
    encoding = InputEncoding.from_data(saved[_ENCODING_KEY])
    if encoding.n_features != network.widths[0]:
        _fail(f"the input encoding has {encoding.n_features} features, but the network needs {network.widths[0]}.")
    tabular = network.layers[0].tabular
    counts = [0] * encoding.n_features if tabular is None else [int(n) for n in tabular.n_categories]
    if encoding.n_categories() != counts:
        _fail(f"the input encoding's categories per feature {encoding.n_categories()} disagree with the network's.")
    return encoding


def load_state(state, estimator_class, private_names):
    """Validate a saved estimator state and rebuild its network (see the module docstring).

    Parameters
    ----------
    state : dict
        What ``__getstate__`` produced, as read back from the file.
    estimator_class : type
        The class being loaded.
    private_names : collection of str
        Private attribute names the class may hold.

    Returns
    -------
    dict
        The state to put in the new estimator's ``__dict__``.

    Raises
    ------
    skkan.exceptions.UnsafeModelError
        If the state is not one skkan could have written.
    """
    if type(state) is not dict:
        _fail(f"the saved state must be a dict, got {type(state).__name__}.")
    state = _legacy_encoding(dict(state))
    _check_names(state, estimator_class, private_names)
    name = estimator_class.__name__
    if "network_" in state:
        saved = state["network_"]
        if type(saved) is not dict or set(saved) != {_NETWORK_KEY}:
            _fail("network_ is not a network description written by skkan.")
        network = network_from_data(saved[_NETWORK_KEY])
        _check_fitted_state(state, network)
        state["network_"] = network
        state["_input_encoding"] = _loaded_encoding(state.get("_input_encoding"), network)
    elif "_input_encoding" in state:
        _fail("_input_encoding without a network.")
    version = state.get("_skkan_version")
    if version is not None and version != __version__:
        warnings.warn(
            f"This {name} was saved with skkan {version} and is loaded with skkan {__version__}; "
            "results may differ. Refit it with this version if possible.",
            UserWarning,
            stacklevel=3,
        )
    device = state.get("device_")
    if device is not None:
        if type(device) is not str:
            _fail("device_ must be a string.")
        # Warns now when the device is missing here; prediction then runs on the CPU.
        usable_device(device, what=f"This {name}")
    return state
