"""Input checks with clear messages, and the guard that keeps a failed fit from changing an estimator.

scikit-learn's ``validate_data`` already rejects NaN/inf, empty arrays,
sparse matrices and mismatched feature counts or names with clear
messages; this module adds what it words poorly for a numeric-only model
(string/categorical columns) and the sample-weight checks, and keeps every
check in one place so that the regressor and the classifier agree.
"""

from contextlib import contextmanager

import numpy as np
from sklearn.utils.validation import _check_sample_weight

__all__ = ["check_numeric_input", "check_sample_weight", "fitted_state_guard"]

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
    """
    is_sparse = hasattr(X, "toarray")
    is_container = hasattr(X, "__len__") or hasattr(X, "__array__")
    if is_sparse or not is_container:
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


def check_sample_weight(sample_weight, X):
    """Validated float64 sample weights with mean 1: right length, finite, non-negative, positive sum.

    Weights only matter relative to each other, so they are rescaled here,
    once, before anything casts them to the network's precision: weights of
    1e-30 or 1e30 then train exactly like unit weights, instead of
    underflowing or overflowing in float32 sums.

    Returns
    -------
    ndarray of shape (n_samples,)
        Ones when ``sample_weight`` is None; otherwise the weights scaled to
        a mean of one.

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
