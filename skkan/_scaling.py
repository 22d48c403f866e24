"""Input and target scaling of the estimators, overflow-safe, in float64.

The estimators standardise inputs (and regression targets) themselves, so
users need no ``StandardScaler`` for the spline grids to cover their data.
"""

import numpy as np

# Standardised inputs are clipped to this many (training) standard deviations:
# far beyond any knot grid, yet small enough that float32 layers stay finite
# on absurd inputs (e.g. 1e300 where training data was around 1).
_STANDARDIZED_CLIP = 1e6


def _weighted_mean_and_scale(values, weights):
    """Weighted column means and standard deviations (1 where a column is constant), ignoring NaN.

    Computed in float64 on columns divided by their largest magnitude, so
    values near the float64 limit do not overflow when squared.
    """
    values = np.asarray(values, dtype=np.float64)
    observed = ~np.isnan(values)
    peak = np.max(np.abs(np.where(observed, values, 0.0)), axis=0)
    peak = np.where((peak > 0) & np.isfinite(peak), peak, 1.0)
    unit = values / peak
    if observed.all():
        mean = np.average(unit, axis=0, weights=weights)
        variance = np.average((unit - mean) ** 2, axis=0, weights=weights)
    else:
        # Missing values (NaN) drop out of their column's statistics.
        mass = np.asarray(weights, dtype=np.float64)[:, None] * observed
        total = np.maximum(mass.sum(axis=0), np.finfo(np.float64).tiny)
        unit = np.where(observed, unit, 0.0)
        mean = (mass * unit).sum(axis=0) / total
        variance = (mass * (unit - mean) ** 2).sum(axis=0) / total
    scale = np.sqrt(variance)
    tiny = np.finfo(np.float64).eps * np.maximum(np.abs(mean), 1.0) * 100
    return mean * peak, np.where(scale > tiny, scale * peak, 1.0)


def _training_range(X_scaled, is_categorical):
    """Per input, the smallest and largest observed (scaled) training value, shape (2, n_features).

    NaN where an input has no limit: a categorical input (its codes index
    learned values, and ``-1`` marks an unseen category) or a column with
    no observed value.
    """
    X_scaled = np.asarray(X_scaled, dtype=np.float64)
    observed = ~np.isnan(X_scaled)
    limits = np.full((2, X_scaled.shape[1]), np.nan)
    seen = observed.any(axis=0)
    if seen.any():
        with np.errstate(invalid="ignore"):
            limits[0, seen] = np.nanmin(X_scaled[:, seen], axis=0)
            limits[1, seen] = np.nanmax(X_scaled[:, seen], axis=0)
    if is_categorical is not None:
        limits[:, np.asarray(is_categorical, dtype=bool)] = np.nan
    return limits


def _merged_range(first, second):
    """The union of two training ranges (see :func:`_training_range`); NaN only where both are NaN."""
    return np.stack([np.fmin(first[0], second[0]), np.fmax(first[1], second[1])])


def _hold_within(X_scaled, limits):
    """Scaled inputs held at the edges of their training range (``limits``, NaN: no limit); NaN stays NaN."""
    low, high = limits
    with np.errstate(invalid="ignore"):
        X_scaled = np.where(X_scaled < low, low, X_scaled)
        return np.where(X_scaled > high, high, X_scaled)


def _standardize(X, mean, scale):
    """``(X - mean) / scale`` in float64, clipped to +-``_STANDARDIZED_CLIP`` (overflow-safe)."""
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = (np.asarray(X, dtype=np.float64) - mean) / scale
    return np.clip(scaled, -_STANDARDIZED_CLIP, _STANDARDIZED_CLIP)
