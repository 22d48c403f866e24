"""Interaction constraints (``interaction_cst``) in scikit-learn's format, resolved to groups of inputs.

The network keeps the groups apart (see ``input_groups`` of
:class:`skkan._engine.KANNetwork`): every hidden node belongs to one group and
sees only that group's inputs, and the output sums the groups.
"""

from numbers import Integral

import numpy as np

__all__ = ["MAX_INTERACTION_GROUPS", "resolve_interaction_groups"]

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
