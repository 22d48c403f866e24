"""The fitted input encoding: what a validated row goes through before the network.

:class:`InputEncoding` holds, per input feature, the centre and scale that
standardise it, the training range that ``extrapolation="constant"`` holds it
within, and for a categorical feature its sorted categories (a raw value
becomes its position, -1 when ``fit`` never saw it; see
:mod:`skkan._tabular`). Categorical codes are never standardised (centre 0,
scale 1) and have no range; NaN (missing) passes through unchanged, the
first layer's edges having a learned value for it
(:mod:`skkan._engine.tabular`).

``predict``, persistence and export read one object. Its plain-data form
(:meth:`InputEncoding.to_data`: numpy arrays, lists, None and a format
number) is what a saved model holds, and :meth:`InputEncoding.from_data`
validates such a dict field by field before it builds anything.
"""

import numpy as np

from ._scaling import (
    _STANDARDIZED_CLIP,
    _hold_within,
    _merged_range,
    _standardize,
    _training_range,
    _weighted_mean_and_scale,
)
from .exceptions import UnsafeModelError

__all__ = ["InputEncoding", "MAX_CATEGORIES", "STANDARDIZED_CLIP"]

#: Standardised inputs are clipped to this many training standard deviations
#: (see :func:`skkan._scaling._standardize`); the ONNX export does the same.
STANDARDIZED_CLIP = _STANDARDIZED_CLIP

#: Version of the plain-data form written by :meth:`InputEncoding.to_data`.
FORMAT_VERSION = 1
# Most categories one categorical feature may have: each is a learned value
# per first-layer edge, and the table is padded to the largest feature.
MAX_CATEGORIES = 1024
_FIELDS = frozenset({"format", "mean", "scale", "input_range", "categories"})
_MAX_FEATURES = 10_000_000


class InputEncoding:
    """Standardisation, training range and categories of a fitted estimator's inputs.

    Parameters
    ----------
    mean, scale : ndarray of shape (n_features,)
        ``(x - mean) / scale`` standardises the inputs; 0 and 1 for
        categorical ones.
    input_range : ndarray of shape (2, n_features), optional
        Smallest and largest standardised training value of each input
        (NaN: no limit, as for categorical inputs); None for models saved
        before skkan 0.2, which extrapolate.
    categories : list of (ndarray or None), optional
        Sorted categories of each categorical input (None for a numeric
        one); None when no input is categorical.
    """

    def __init__(self, mean, scale, input_range=None, categories=None):
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)
        self.input_range = None if input_range is None else np.asarray(input_range, dtype=np.float64)
        self.categories = None if categories is None else list(categories)

    @classmethod
    def fit(cls, X, sample_weight, categories=None):
        """Weighted, NaN-aware centre and scale of validated inputs ``X`` (categorical codes stay as they are).

        The training range is set later, from the rows that trained the
        network (:meth:`with_training_range`).
        """
        mean, scale = _weighted_mean_and_scale(X, sample_weight)
        encoding = cls(mean, scale, categories=categories)
        is_categorical = encoding.is_categorical
        if is_categorical is not None:
            mean[is_categorical], scale[is_categorical] = 0.0, 1.0
        return encoding

    @property
    def n_features(self):
        """Number of input features."""
        return self.mean.size

    @property
    def is_categorical(self):
        """Boolean mask of the categorical inputs, or None when there are none."""
        if self.categories is None:
            return None
        return np.array([values is not None for values in self.categories], dtype=bool)

    def n_categories(self):
        """Number of categories of each input (0 for a numeric one): list of int."""
        if self.categories is None:
            return [0] * self.n_features
        return [0 if values is None else int(values.size) for values in self.categories]

    def standardize(self, X):
        """``(X - mean) / scale`` in float64, clipped far beyond any grid (overflow-safe)."""
        return _standardize(X, self.mean, self.scale)

    def with_training_range(self, X_scaled, extend=False):
        """This encoding with the training range of the standardised rows ``X_scaled``.

        With ``extend`` (warm start, later ``partial_fit`` calls) the range
        grows by the new rows instead of being replaced.
        """
        found = _training_range(X_scaled, self.is_categorical)
        if extend and self.input_range is not None:
            found = _merged_range(self.input_range, found)
        return type(self)(self.mean, self.scale, found, self.categories)

    def network_inputs(self, X, hold_within_range=True):
        """What the network receives for validated rows ``X``: standardised and, by default, held in range.

        ``hold_within_range`` is ``extrapolation="constant"``: every input is
        held within its training range, so predictions stay constant beyond
        the data as a tree ensemble's do.
        """
        X_scaled = self.standardize(X)
        if not hold_within_range or self.input_range is None:
            return X_scaled
        return _hold_within(X_scaled, self.input_range)

    # ------------------------------------------------------------------
    # Plain data
    # ------------------------------------------------------------------
    def to_data(self):
        """Plain-data form: a dict of numpy arrays, a list, None and ints (copies)."""
        return {
            "format": FORMAT_VERSION,
            "mean": self.mean.copy(),
            "scale": self.scale.copy(),
            "input_range": None if self.input_range is None else self.input_range.copy(),
            "categories": None
            if self.categories is None
            else [None if values is None else values.copy() for values in self.categories],
        }

    @classmethod
    def from_data(cls, data):
        """Rebuild an encoding from :meth:`to_data`'s form, checking every field first.

        Raises
        ------
        skkan.exceptions.UnsafeModelError
            If ``data`` is not a form skkan could have written: unknown or
            missing fields, arrays of the wrong kind or shape, non-finite
            numbers, non-positive scales, unsorted or too many categories.
        """
        if type(data) is not dict or set(data) != _FIELDS:
            _fail(f"the input encoding must be a dict with the fields {sorted(_FIELDS)}.")
        if type(data["format"]) is not int or data["format"] != FORMAT_VERSION:
            _fail(f"input encoding format {data['format']!r} is not {FORMAT_VERSION}.")
        mean = _checked_floats(data["mean"], "mean")
        if mean.ndim != 1 or not 1 <= mean.size <= _MAX_FEATURES:
            _fail("input encoding mean must be a non-empty 1-D array.")
        n_features = mean.size
        scale = _checked_floats(data["scale"], "scale", (n_features,))
        if not np.all(scale > 0):
            _fail("input encoding scale must be positive.")
        input_range = data["input_range"]
        if input_range is not None:
            input_range = _checked_floats(input_range, "input_range", (2, n_features), allow_nan=True)
            with np.errstate(invalid="ignore"):
                if np.any(input_range[0] > input_range[1]):
                    _fail("input encoding input_range has a lower limit above its upper one.")
        categories = _checked_categories(data["categories"], n_features)
        encoding = cls(mean.copy(), scale.copy(), None if input_range is None else input_range.copy(), categories)
        is_categorical = encoding.is_categorical
        if is_categorical is not None:
            if np.any(mean[is_categorical] != 0) or np.any(scale[is_categorical] != 1):
                _fail("categorical inputs must have input encoding mean 0 and scale 1.")
            if input_range is not None and not np.all(np.isnan(input_range[:, is_categorical])):
                _fail("categorical inputs must have no input range (NaN).")
        return encoding


def _fail(message):
    raise UnsafeModelError(f"Refusing to load this skkan model: {message}")


def _checked_floats(value, name, shape=None, allow_nan=False):
    if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
        _fail(f"input encoding {name} must be a floating-point numpy array.")
    if shape is not None and value.shape != shape:
        _fail(f"input encoding {name} has shape {value.shape}, expected {shape}.")
    checked = value[~np.isnan(value)] if allow_nan else value
    if not np.all(np.isfinite(checked)):
        _fail(f"input encoding {name} must be finite.")
    return value


def _checked_categories(categories, n_features):
    """``categories`` from a saved encoding, each a sorted unique float or str array (see the module docstring)."""
    if categories is None:
        return None
    if type(categories) is not list or len(categories) != n_features:
        _fail(f"input encoding categories must be a list of {n_features} entries (None for a numeric input).")
    checked = []
    for index, values in enumerate(categories):
        if values is None:
            checked.append(None)
            continue
        if not isinstance(values, np.ndarray) or values.ndim != 1 or values.dtype.kind not in "fU":
            _fail(f"input encoding categories of feature {index} must be a 1-D float or str numpy array.")
        if not 1 <= values.size <= MAX_CATEGORIES:
            _fail(f"feature {index} must have between 1 and {MAX_CATEGORIES} categories, got {values.size}.")
        if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
            _fail(f"input encoding categories of feature {index} must be finite.")
        if values.size > 1 and not np.all(values[1:] > values[:-1]):
            _fail(f"input encoding categories of feature {index} must be sorted and unique.")
        checked.append(values.copy())
    if all(values is None for values in checked):
        _fail("input encoding categories must name at least one categorical input (or be None).")
    return checked
