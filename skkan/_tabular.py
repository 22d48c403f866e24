"""Tabular inputs in the estimators' face: categorical columns, missing values, input validation.

Categorical columns (``categorical_features``) are encoded here, before
``validate_data``, to integer codes ``0 .. n_categories - 1`` in the order of
``categories_`` (sorted); a category not seen in ``fit`` becomes -1 and a
missing entry (None, NaN, ``pd.NA``) becomes NaN. Numeric columns pass
unchanged, NaN included. The engine gives a categorical input a lookup-table
edge and every input a learned value for NaN (see
:mod:`skkan._engine.tabular`); categorical codes are never standardised.
"""

import numpy as np
from sklearn.utils.validation import validate_data

from ._encoding import MAX_CATEGORIES
from ._validation import check_numeric_input

__all__ = ["categories_per_input", "validate_tabular_data"]


def _is_dataframe(X):
    return hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "iloc")


def _column(X, index):
    """Column ``index`` of ``X`` as a 1-D numpy array (object dtype for non-numeric data)."""
    if _is_dataframe(X):
        column = X.iloc[:, index]
        if getattr(column.dtype, "kind", "O") in "biuf":
            return column.to_numpy()
        return column.to_numpy(dtype=object)
    return np.asarray(X)[:, index]


def _missing(values):
    """Boolean mask of missing entries (None, NaN, pd.NA, NaT) in a 1-D array."""
    if values.dtype.kind in "fc":
        return np.isnan(values)
    if values.dtype.kind != "O":
        return np.zeros(values.shape, dtype=bool)
    try:
        import pandas

        return np.asarray(pandas.isna(values), dtype=bool)
    except ImportError:  # pragma: no cover - pandas is there whenever DataFrames are
        return np.array([value is None or (isinstance(value, float) and value != value) for value in values])


def _is_categorical_dtype(dtype):
    return getattr(dtype, "name", None) == "category" or getattr(dtype, "kind", "O") in "OUS"


def resolve_categorical_features(categorical_features, X):
    """Boolean mask of the categorical columns of ``X``, or None when there are none.

    Raises
    ------
    ValueError
        For an unknown column name, names without feature names in ``X``,
        out-of-range indices or a mask of the wrong length.
    """
    if categorical_features is None:
        return None
    n_features = np.shape(X)[1] if len(np.shape(X)) == 2 else None
    if n_features is None:
        return None  # validate_data reports the shape.
    names = [str(name) for name in X.columns] if _is_dataframe(X) else None
    if isinstance(categorical_features, str):
        if categorical_features != "from_dtype":
            raise ValueError(
                f"categorical_features must be None, 'from_dtype', indices, names or a boolean mask, got "
                f"{categorical_features!r}."
            )
        if not _is_dataframe(X):
            return None
        mask = np.array([_is_categorical_dtype(dtype) for dtype in X.dtypes], dtype=bool)
        return mask if mask.any() else None
    spec = np.asarray(categorical_features)
    if spec.size == 0:
        return None
    spec = spec.ravel()
    if spec.dtype.kind == "b":
        if spec.size != n_features:
            raise ValueError(
                f"categorical_features as a boolean mask must have one entry per feature ({n_features}), "
                f"got {spec.size}."
            )
        return spec.copy() if spec.any() else None
    mask = np.zeros(n_features, dtype=bool)
    if spec.dtype.kind in "iu":
        if np.any(spec < 0) or np.any(spec >= n_features):
            raise ValueError(f"categorical_features indices must be in [0, {n_features - 1}], got {spec.tolist()}.")
        mask[spec] = True
        return mask
    if spec.dtype.kind in "OUS":
        if names is None:
            raise ValueError(
                "categorical_features names need X with feature names (a pandas DataFrame); pass indices or a "
                "boolean mask for arrays."
            )
        unknown = [str(name) for name in spec if str(name) not in names]
        if unknown:
            raise ValueError(
                f"categorical_features names {unknown} are not columns of X; the columns are {names[:10]}"
                f"{'...' if len(names) > 10 else ''}."
            )
        mask[[names.index(str(name)) for name in spec]] = True
        return mask
    raise ValueError(
        f"categorical_features must be None, 'from_dtype', integer indices, string names or a boolean mask, got "
        f"an array of dtype {spec.dtype}."
    )


def _declared_categories(X, index):
    if _is_dataframe(X):
        dtype = X.iloc[:, index].dtype
        if getattr(dtype, "name", None) == "category":
            return np.asarray(dtype.categories, dtype=object)
    return None


def _category_array(values, where):
    """Sorted unique categories as a float64 or a string array (mixed kinds refused)."""
    if values.dtype.kind in "biuf":
        return np.unique(values.astype(np.float64))
    is_text = np.array([isinstance(value, str) for value in values], dtype=bool)
    if is_text.all():
        return np.unique(values.astype(str))
    if not is_text.any():
        try:
            return np.unique(values.astype(np.float64))
        except (TypeError, ValueError):
            pass
    raise ValueError(
        f"Categorical feature {where} mixes strings with other values; use one kind of category per column."
    )


def _fit_categories(X, mask, feature_names):
    categories = []
    for index in range(mask.size):
        if not mask[index]:
            categories.append(None)
            continue
        where = repr(feature_names[index]) if feature_names is not None else f"{index}"
        declared = _declared_categories(X, index)
        values = _column(X, index) if declared is None else declared
        observed = values[~_missing(values)]
        found = _category_array(observed, where)
        if found.size == 0:
            raise ValueError(f"Categorical feature {where} has no category: every entry is missing.")
        if found.size > MAX_CATEGORIES:
            raise ValueError(
                f"Categorical feature {where} has {found.size} categories; at most {MAX_CATEGORIES} are supported. "
                "Group rare categories, or encode the feature numerically."
            )
        categories.append(found)
    return categories


def _encode_column(values, categories, where):
    codes = np.full(values.shape, np.nan)
    present = ~_missing(values)
    observed = values[present]
    if categories.dtype.kind == "f":
        try:
            observed = observed.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"Categorical feature {where} was fitted on numeric categories but got non-numeric values, e.g. "
                f"{observed[0]!r}."
            ) from None
    else:
        observed = observed.astype(str)
    unique, inverse = np.unique(observed, return_inverse=True)
    position = np.searchsorted(categories, unique).clip(0, max(categories.size - 1, 0))
    known = categories[position] == unique if categories.size else np.zeros(unique.size, dtype=bool)
    codes[present] = np.where(known, position, -1)[inverse]
    return codes


def _encode(X, mask, categories, feature_names, estimator_name):
    """``X`` with its categorical columns replaced by float codes (a DataFrame stays a DataFrame)."""
    columns = {}
    for index in np.flatnonzero(mask):
        where = repr(feature_names[index]) if feature_names is not None else f"{index}"
        columns[index] = _encode_column(_column(X, index), categories[index], where)
    if _is_dataframe(X):
        check_numeric_input(X.iloc[:, np.flatnonzero(~mask)], estimator_name)
        X = X.copy()
        for index, codes in columns.items():
            X.isetitem(int(index), codes)
        return X
    array = np.asarray(X)
    encoded = np.empty(array.shape, dtype=np.float64)
    for index in range(array.shape[1]):
        if index in columns:
            encoded[:, index] = columns[index]
        else:
            try:
                encoded[:, index] = array[:, index].astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{estimator_name} needs numeric input in column {index} of X, which is not in "
                    "categorical_features but holds non-numeric values (e.g. strings); declare it categorical or "
                    "encode it first."
                ) from None
    return encoded


def validate_tabular_data(estimator, X, y="no_validation", *, reset, **kwargs):
    """``validate_data`` for KAN inputs: categorical columns encoded, NaN allowed, inf refused.

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
    X : array-like or DataFrame
    y : array-like or None, optional
        As for ``validate_data``: not given, only ``X`` is validated (and
        returned with the categorical spec).
    reset : bool
        True in ``fit``: the categorical columns are resolved from
        ``estimator.categorical_features`` and their categories read from
        ``X``. False afterwards: the categories of the fitted input encoding
        (:class:`skkan._encoding.InputEncoding`) are used.
    **kwargs
        Passed to :func:`sklearn.utils.validation.validate_data`.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray (only when ``y`` is passed)
    categorical : tuple
        ``(is_categorical, categories)``: a boolean mask (or None) and, per
        feature, the sorted categories (None for a numeric feature).
    """
    name = type(estimator).__name__
    if reset:
        mask = resolve_categorical_features(estimator.categorical_features, X)
        names = [str(c) for c in X.columns] if _is_dataframe(X) and mask is not None else None
        categories = _fit_categories(X, mask, names) if mask is not None else None
    else:
        encoding = estimator._input_encoding
        mask, categories = encoding.is_categorical, encoding.categories
    shape = None if mask is None else np.shape(X)
    if mask is not None and len(shape) == 2 and shape[1] == mask.size and not hasattr(X, "toarray"):
        names = [str(c) for c in X.columns] if _is_dataframe(X) else None
        X = _encode(X, mask, categories, names, name)
    else:
        check_numeric_input(X, name)
    kwargs.update(reset=reset, dtype=[np.float64, np.float32], ensure_all_finite="allow-nan")
    if isinstance(y, str) and y == "no_validation":
        return validate_data(estimator, X, **kwargs), (mask, categories)
    X, y = validate_data(estimator, X, y, **kwargs)
    return X, y, (mask, categories)


def categories_per_input(is_categorical, categories, n_features):
    """Number of categories of each input (0 for a numeric one), for the engine."""
    if is_categorical is None:
        return [0] * n_features
    return [int(categories[i].size) if is_categorical[i] else 0 for i in range(n_features)]
