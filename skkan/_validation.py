"""Input checks with clear messages, and the guards that keep a failed fit from changing an estimator.

scikit-learn's ``validate_data`` already rejects NaN/inf, empty arrays,
sparse matrices and mismatched feature counts or names with clear
messages; this module adds what it words poorly for a numeric-only model
(string/categorical columns, missing or mixed-type class labels), the
sample-weight checks and the warm-start rules, and keeps every check in one
place so that the regressor and the classifier agree.
"""

from contextlib import contextmanager
from numbers import Number

import numpy as np
from sklearn.utils.validation import _check_sample_weight

from .exceptions import TrainingDivergedError

__all__ = [
    "WARM_START_FIXED_PARAMETERS",
    "check_class_labels",
    "check_numeric_input",
    "check_sample_weight",
    "check_warm_start_architecture",
    "fitted_state_guard",
    "overflow_as_divergence",
]

# Hard limit on how many offending columns a message lists.
_MAX_LISTED_COLUMNS = 5


def _non_numeric_columns(X):
    """Names (or indices) of the columns of ``X`` that do not convert to float."""
    columns = getattr(X, "columns", None)
    if columns is not None and hasattr(X, "dtypes"):
        # A DataFrame: test each non-numeric column on its own.
        bad = []
        for name, dtype in zip(columns, X.dtypes):
            if getattr(dtype, "kind", "O") in "biuf":
                continue
            try:
                np.asarray(X[name], dtype=np.float64)
            except ValueError:
                bad.append(name)
        return bad
    array = np.asarray(X)
    if array.ndim != 2 or array.dtype.kind not in "OUSVa":
        return []
    bad = []
    for index in range(array.shape[1]):
        try:
            array[:, index].astype(np.float64)
        except ValueError:
            # Strings that are not numbers. Other objects (dicts, ...) raise
            # TypeError, which validate_data reports in its own words.
            bad.append(index)
    return bad


def check_numeric_input(X, estimator_name):
    """Raise a ValueError naming the columns of ``X`` that are not numeric.

    Only inputs with an object/string dtype (or DataFrames with such
    columns) are inspected, so numeric arrays cost nothing. Sparse inputs
    are left to ``validate_data``, which rejects them with a TypeError.

    Parameters
    ----------
    X : array-like
        The input as given by the user.
    estimator_name : str
        Used in the message.

    Raises
    ------
    ValueError
        If some column cannot be converted to float.
    TypeError
        If ``X`` is not array-like at all (a string, a dict, an arbitrary
        object).
    """
    is_sparse = hasattr(X, "toarray")
    is_container = hasattr(X, "__len__") or hasattr(X, "__array__")
    if is_sparse:  # Some sparse formats (dok) are dicts.
        return
    if isinstance(X, (str, bytes, dict)) or not (is_container or np.isscalar(X)):
        # numpy would report these as float() failures on a 0-d object array.
        raise TypeError(
            f"{estimator_name} expects X as an array-like of shape (n_samples, n_features) (a numpy array, a "
            f"list of rows or a DataFrame), got {type(X).__name__}."
        )
    if not is_container:
        return
    try:
        bad = _non_numeric_columns(X)
    except (TypeError, ValueError):  # Unusual containers: let validate_data report them.
        return
    if bad:
        listed = ", ".join(repr(c) for c in bad[:_MAX_LISTED_COLUMNS])
        more = f" and {len(bad) - _MAX_LISTED_COLUMNS} more" if len(bad) > _MAX_LISTED_COLUMNS else ""
        raise ValueError(
            f"{estimator_name} needs numeric input, but column(s) {listed}{more} of X contain non-numeric values "
            "(e.g. strings or categories). Declare them with categorical_features (their indices, names, or "
            "'from_dtype' for pandas category/string columns), or encode them first, for example with "
            "sklearn.preprocessing.OneHotEncoder in a Pipeline."
        )


def check_sample_weight(sample_weight, X, *, normalize=True):
    """Validated float64 sample weights with mean 1: right length, finite, non-negative, positive sum.

    Weights only matter relative to each other, so they are rescaled here,
    once, before anything casts them to the network's precision: weights of
    1e-30 or 1e30 then train exactly like unit weights, instead of
    underflowing or overflowing in float32 sums.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,) or None
    X : ndarray of shape (n_samples, n_features)
    normalize : bool, default=True
        False: only scale by a power of two, so that the largest weight lies
        in [0.5, 1). That is exact, so class weights multiplied in before
        the final normalisation give bit for bit the weights of a user who
        multiplied them into ``sample_weight`` by hand.

    Returns
    -------
    ndarray of shape (n_samples,)
        Ones when ``sample_weight`` is None; otherwise the weights scaled to
        a mean of one (or by a power of two, without ``normalize``).

    Raises
    ------
    ValueError
        If the weights have the wrong shape, contain NaN, infinity or
        negative entries, or are all zero.
    """
    if sample_weight is not None and not np.isscalar(sample_weight):
        length = np.asarray(sample_weight).shape
        if len(length) != 1 or length[0] != X.shape[0]:
            raise ValueError(
                f"sample_weight must be a 1-D array with one weight per sample: X has {X.shape[0]} samples but "
                f"sample_weight has shape {length}."
            )
    sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    largest = sample_weight.max()
    if not largest > 0:
        raise ValueError("sample_weight must contain at least one positive entry; all weights are zero.")
    if not normalize:
        return np.ldexp(sample_weight, -np.frexp(largest)[1])
    # Dividing by the largest weight first keeps the sum from overflowing.
    sample_weight = sample_weight / largest
    return sample_weight / sample_weight.mean()


@contextmanager
def fitted_state_guard(estimator):
    """Undo every change to ``estimator.__dict__`` if the block raises.

    ``fit`` builds all fitted state apart and assigns it at the end, but
    ``validate_data`` sets ``n_features_in_`` / ``feature_names_in_`` early;
    this guard makes a failed (re)fit leave the estimator exactly as it was,
    fitted or not. A ``KeyboardInterrupt`` that reaches here (outside the
    training loop, which handles it itself) is treated the same way.
    """
    saved = dict(estimator.__dict__)
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(saved)
        raise


def _is_missing(label):
    """None, NaN, NaT or pandas.NA (the only value whose comparison has no truth value)."""
    if label is None:
        return True
    try:
        return bool(label != label)
    except TypeError:
        return type(label).__name__ == "NAType"
    except ValueError:  # An array-like label: not missing, and rejected elsewhere.
        return False


def check_class_labels(y):
    """Raise a ValueError if class labels are missing or mix strings with numbers.

    Only object arrays are inspected (numeric arrays with NaN are rejected by
    ``validate_data``): sorting them, as ``np.unique`` does, would otherwise
    fail with a bare ``TypeError`` comparing ``None`` or ``int`` with ``str``.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Class labels as validated by ``validate_data``.

    Raises
    ------
    ValueError
        If a label is None, NaN or pandas.NA, if labels mix strings and
        numbers, or if they cannot be sorted.
    """
    y = np.asarray(y)
    if y.dtype.kind != "O":
        return
    # One pass, keeping the first label of each kind for the message.
    first = {}
    for label in y:
        kind = str if isinstance(label, str) else Number if isinstance(label, Number) else object
        first.setdefault(kind, label)
    missing = np.flatnonzero([_is_missing(label) for label in y]) if object in first or Number in first else []
    if len(missing):
        raise ValueError(
            f"y contains {len(missing)} missing class label(s) (None, NaN or pandas.NA), the first at row "
            f"{missing[0]}. Drop these samples or give them a label."
        )
    if str in first and Number in first:
        raise ValueError(
            f"y mixes string and numeric class labels (e.g. {first[str]!r} and {first[Number]!r}); convert them "
            "to one type, for example with y.astype(str)."
        )
    if object not in first:
        return  # Only strings, or only numbers: sortable.
    try:
        np.unique(y)
    except TypeError as error:
        types = sorted({type(label).__name__ for label in y})
        raise ValueError(f"Class labels must be sortable values of one type; y holds {types}: {error}.") from None


# What the network is made of (and what its outputs mean: the regression
# loss, whose link they follow): warm_start continues the fitted network, so
# these may not change between fits. Everything else (learning_rate,
# max_iter, optimizer, batch_size, the lamb* penalties, tol, early stopping,
# dtype, device, random_state, verbose) only drives training and may change.
WARM_START_FIXED_PARAMETERS = (
    "hidden_layer_sizes",
    "grid_size",
    "grid_extension",
    "spline_order",
    "ensemble_size",
    "interaction_cst",
    "monotonic_cst",
    "loss",
)


def check_warm_start_architecture(estimator_name, fitted, requested):
    """Raise a ValueError naming the architecture parameters changed since the fit being continued.

    Parameters
    ----------
    estimator_name : str
        Used in the message.
    fitted : dict
        The values of :data:`WARM_START_FIXED_PARAMETERS` the network was
        built with; names missing from it are not checked.
    requested : dict
        The same parameters as they are now, in the same normalised form.

    Raises
    ------
    ValueError
        If any of them differs.
    """
    changed = [
        f"{name} (fitted with {fitted[name]!r}, now {requested[name]!r})"
        for name in WARM_START_FIXED_PARAMETERS
        if name in fitted and fitted[name] != requested[name]
    ]
    if changed:
        raise ValueError(
            f"warm_start=True continues the fitted network, but its architecture parameters changed: "
            f"{'; '.join(changed)}. Set them back, or fit afresh with warm_start=False. Under warm_start only the "
            "training parameters (learning_rate, max_iter, optimizer, batch_size, lamb*, tol, early stopping, "
            "dtype, device, random_state, verbose) may change."
        )


@contextmanager
def overflow_as_divergence(dtype_name):
    """Report an optimiser step too large for the network's precision as a divergence.

    torch refuses to apply a step it cannot represent (``learning_rate=1e38``
    in float32 makes Adam's first step 1e39) with a bare ``RuntimeError``;
    that is a divergence before any finite state, so it becomes
    :class:`~skkan.exceptions.TrainingDivergedError`. Other errors pass.
    """
    try:
        yield
    except RuntimeError as error:
        if "without overflow" not in str(error):
            raise
        raise TrainingDivergedError(
            f"Training diverged: an optimiser step overflowed {dtype_name} before any finite iteration "
            f"(torch: {error}). Lower learning_rate."
        ) from error
