"""Interaction and monotonic constraints in scikit-learn's formats, resolved for the network.

The network keeps interaction groups apart (``input_groups`` of
:class:`skkan._engine.KANNetwork`: every hidden node belongs to one group and
sees only that group's inputs, and the output sums the groups) and keeps
constrained inputs monotone by construction (``monotone``, see
:mod:`skkan._engine.monotone`).
"""

from numbers import Integral

import numpy as np

__all__ = ["MAX_INTERACTION_GROUPS", "resolve_interaction_groups", "resolve_monotonic_cst"]

# Every group needs hidden nodes of its own: beyond this many the network would
# be far wider than any useful model ("pairwise" on 100 features is 4,950 groups).
MAX_INTERACTION_GROUPS = 1024


def _feature_index(feature, n_features, feature_names):
    """Position of ``feature`` (an index or, for data with column names, a name)."""
    if isinstance(feature, str):
        if feature_names is None:
            raise ValueError(
                f"interaction_cst names the feature {feature!r}, but X has no feature names; use column indices."
            )
        matches = np.flatnonzero(np.asarray(feature_names, dtype=object) == feature)
        if matches.size != 1:
            raise ValueError(f"interaction_cst names the feature {feature!r}, which is not a column of X.")
        return int(matches[0])
    if isinstance(feature, Integral) and not isinstance(feature, bool) and 0 <= feature < n_features:
        return int(feature)
    raise ValueError(
        f"interaction_cst must hold feature indices in [0, {n_features - 1}] (or column names), got {feature!r}."
    )


def resolve_interaction_groups(interaction_cst, n_features, feature_names=None):
    """The groups of input indices that ``interaction_cst`` allows to interact, or None for no constraint.

    As in :class:`~sklearn.ensemble.HistGradientBoostingRegressor`:
    ``"no_interactions"`` puts every feature in a group of its own (an
    additive model), ``"pairwise"`` makes a group of every pair, and a list
    of groups (lists, tuples or sets of feature indices, or of column names
    when ``X`` has them) allows interactions within each group. Groups may
    overlap: features interact when some group holds both. Features in no
    group form one more group together.

    Parameters
    ----------
    interaction_cst : None, {"pairwise", "no_interactions"} or sequence of sequences
    n_features : int
    feature_names : array-like of str, optional
        ``feature_names_in_`` of the data, for groups given by name.

    Returns
    -------
    groups : list of tuple of int, or None
        Sorted, without repeated groups; None when every feature may
        interact with every other (no constraint, or one group of all).

    Raises
    ------
    ValueError
        For a malformed constraint, an unknown feature, an empty group, or
        more than :data:`MAX_INTERACTION_GROUPS` groups.
    """
    if interaction_cst is None:
        return None
    if isinstance(interaction_cst, str):
        if interaction_cst == "no_interactions":
            groups = [(i,) for i in range(n_features)]
        elif interaction_cst == "pairwise":
            groups = [(i, j) for i in range(n_features) for j in range(i + 1, n_features)]
        else:
            raise ValueError(
                f"interaction_cst must be None, 'pairwise', 'no_interactions' or a list of feature groups, got "
                f"{interaction_cst!r}."
            )
    else:
        try:
            given = [list(group) for group in interaction_cst]
        except TypeError:
            raise ValueError(
                f"interaction_cst must be a list of feature groups (lists, tuples or sets), got {interaction_cst!r}."
            ) from None
        if any(isinstance(group, str) for group in interaction_cst):
            raise ValueError("interaction_cst must be a list of feature groups; a group is a list, not a string.")
        groups = []
        for group in given:
            if not group:
                raise ValueError("interaction_cst holds an empty group; every group needs at least one feature.")
            groups.append(tuple(sorted({_feature_index(feature, n_features, feature_names) for feature in group})))
    listed = {i for group in groups for i in group}
    rest = tuple(i for i in range(n_features) if i not in listed)
    if rest:
        groups.append(rest)
    groups = sorted(set(groups))
    if len(groups) > MAX_INTERACTION_GROUPS:
        raise ValueError(
            f"interaction_cst gives {len(groups)} groups; at most {MAX_INTERACTION_GROUPS} are supported (every "
            "group needs hidden nodes of its own). Use fewer, larger groups."
        )
    if len(groups) == 1 and len(groups[0]) == n_features:
        return None
    return groups


def resolve_monotonic_cst(
    monotonic_cst, n_features, feature_names=None, is_categorical=None, n_outputs=1, is_classifier=False
):
    """``monotonic_cst`` as one direction (-1, 0, 1) per feature, or None when nothing is constrained.

    As in :class:`~sklearn.ensemble.HistGradientBoostingRegressor`: an
    array-like of -1, 0, 1 per feature, or a dict from column names to
    directions (other features unconstrained).

    Raises
    ------
    ValueError
        For a wrong length, a value other than -1, 0, 1, an unknown name,
        names without column names in ``X``, a constrained categorical
        feature, or a multiclass classifier.
    """
    if monotonic_cst is None:
        return None
    if isinstance(monotonic_cst, dict):
        if feature_names is None:
            raise ValueError(
                "monotonic_cst is a dict of feature names, but X has no feature names; pass one direction per "
                "feature (an array-like) instead."
            )
        names = [str(name) for name in feature_names]
        directions = np.zeros(n_features, dtype=int)
        for name, direction in monotonic_cst.items():
            if name not in names:
                raise ValueError(f"monotonic_cst names the feature {name!r}, which is not a column of X: {names}.")
            directions[names.index(name)] = _direction(direction, name)
    else:
        values = np.asarray(monotonic_cst, dtype=object).ravel()
        if values.shape[0] != n_features:
            raise ValueError(
                f"monotonic_cst has {values.shape[0]} values but X has {n_features} features; give one of -1, 0, "
                "1 per feature."
            )
        directions = np.array([_direction(value, index) for index, value in enumerate(values)], dtype=int)
    if not directions.any():
        return None
    if is_classifier and n_outputs > 1:
        raise ValueError(
            "monotonic_cst is supported for regression and binary classification only: a multiclass prediction "
            "has no single direction."
        )
    if is_categorical is not None and np.any(np.asarray(is_categorical) & (directions != 0)):
        categorical = [int(i) for i in np.flatnonzero(np.asarray(is_categorical) & (directions != 0))]
        raise ValueError(f"monotonic_cst constrains the categorical features {categorical}, which have no order.")
    return tuple(int(direction) for direction in directions)


def _direction(value, feature):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Integral, np.integer)) or value not in (-1, 0, 1):
        raise ValueError(f"monotonic_cst must hold -1, 0 or 1, got {value!r} for feature {feature!r}.")
    return int(value)
