"""Per-row explanations: each input feature's contribution to a prediction.

The method (centred rescaling along the network's edges) and its guarantees
are documented in :mod:`skkan._engine.contributions`.
"""

import copy
import weakref

import numpy as np
import torch

from .._engine.contributions import ContributionReference, edge_path_contributions
from ._common import fitted_view

__all__ = ["BASE_VALUE_NAME", "contributions_of_network_inputs", "predict_contributions"]

#: Name of the last column of :func:`predict_contributions` in a DataFrame.
BASE_VALUE_NAME = "base_value"


def _output_names(view):
    classes = view.classes
    if classes is not None:
        return [str(label) for label in classes]
    n_outputs = view.network.n_outputs
    return [f"y{k}" for k in range(n_outputs)]


def _as_frame(contributions, view, X):
    """``contributions`` as a pandas DataFrame: features then the base value; outputs as a column level."""
    try:
        import pandas as pd
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("as_frame=True needs pandas; install it with `pip install pandas`.") from error
    names = [*view.feature_names, BASE_VALUE_NAME]
    index = X.index if hasattr(X, "index") and hasattr(X, "columns") else None
    if contributions.ndim == 2:
        return pd.DataFrame(contributions, columns=names, index=index)
    outputs = _output_names(view)
    columns = pd.MultiIndex.from_product([outputs, names], names=["output", "feature"])
    flat = contributions.transpose(0, 2, 1).reshape(contributions.shape[0], -1)
    return pd.DataFrame(flat, columns=columns, index=index)


# The float64 network copy and its background statistics, per fitted network.
# They are recomputed when any of its tensors changed in place (pruning, a
# snapped edge, more training) or the kept sample was replaced.
_REFERENCES = weakref.WeakKeyDictionary()


def _network_and_reference(view):
    """A float64 copy of the view's network and its :class:`ContributionReference`, cached."""
    fingerprint = view.state_fingerprint
    cached = _REFERENCES.get(view.network)
    if cached is not None and cached[0] == fingerprint:
        return cached[1], cached[2]
    # In float64 whatever the model's dtype: the sums must hold to rounding.
    network = copy.deepcopy(view.network).to(device="cpu", dtype=torch.float64)
    reference = ContributionReference(network, *view.sample_tensors(network))
    _REFERENCES[view.network] = (fingerprint, network, reference)
    return network, reference


def predict_contributions(estimator, X, *, as_frame=False):
    """Each input feature's contribution to every row's raw prediction, plus a base value.

    The contributions are on the scale of ``predict`` for a regressor, of
    ``log(predict)`` for a regressor with a log link (``loss="poisson"`` or
    ``"gamma"``: features add up on the log scale and multiply the mean),
    and of ``decision_function`` (logits) for a classifier. For every row, the
    features' contributions plus the base value sum to that raw prediction,
    to rounding.

    Method: *centred rescaling along the edges* (see
    :mod:`skkan._engine.contributions`). The base value is the weighted mean
    prediction over the training sample the model keeps
    (``fitted_view_.sample_inputs``, at most 2000 rows). A first-layer edge
    gives its input its deviation from that edge's mean; every later edge
    passes each input's share of its input node's deviation on, as
    DeepLIFT's rescale rule does; product nodes split their change as the
    Shapley value of a product of two players. Guarantees:

    * *completeness*: a row's contributions plus the base value equal its
      raw prediction;
    * *null feature*: a feature whose edges are all pruned, or constant,
      gets exactly 0 on every row;
    * *centred*: each feature's contributions average to 0 over the
      training sample;
    * *exact Shapley values for additive models*: where no two features
      meet in a hidden node (``interaction_cst="no_interactions"``, or no
      hidden layer), each contribution is that feature's centred shape
      function, the exact interventional Shapley value with the training
      sample as the background distribution. Features that meet in a node
      share the node's change in proportion to their own changes there;
      that is a rescale attribution, not a Shapley value.

    Missing values and categorical features are explained by their learned
    edge values; an ensemble's contributions are the mean of its members'.

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
        A fitted estimator.
    X : array-like of shape (n_samples, n_features)
        Rows to explain, as for ``predict`` (DataFrames, NaN and categorical
        columns included).
    as_frame : bool, default=False
        Return a pandas DataFrame whose columns are the feature names and
        ``"base_value"`` (with the class or output as an outer column level
        when there are several outputs), indexed like ``X`` when ``X`` is a
        DataFrame.

    Returns
    -------
    contributions : ndarray of shape (n_samples, n_features + 1) or (n_samples, n_features + 1, n_outputs)
        Column ``i < n_features`` is feature ``i``'s contribution (in the
        order of ``feature_names_in_``), the last column the base value. A
        multiclass classifier (one logit per class) or a regressor fitted
        on 2-D targets gets the 3-D form, one slice per class or output.

    Examples
    --------
    >>> import numpy as np
    >>> from skkan import KANRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(200, 3))
    >>> y = X[:, 0] ** 2 + X[:, 1]
    >>> model = KANRegressor(hidden_layer_sizes=(), max_iter=20, random_state=0).fit(X, y)
    >>> contributions = model.predict_contributions(X[:5])
    >>> contributions.shape
    (5, 4)
    >>> bool(np.allclose(contributions.sum(axis=1), model.predict(X[:5])))
    True
    """
    view = fitted_view(estimator)
    result = contributions_of_network_inputs(view, view.network_inputs(X))
    if view.single_output:
        result = result[:, :, 0]
    result = np.ascontiguousarray(result)
    return _as_frame(result, view, X) if as_frame else result


def contributions_of_network_inputs(view, x):
    """Contributions for rows already in the network's input form, (n, n_features + 1, n_outputs), output scale."""
    network, reference = _network_and_reference(view)
    contributions, base = edge_path_contributions(network, torch.as_tensor(x, dtype=torch.float64), reference)
    contributions, base = contributions.numpy(), base.numpy()
    scale, mean = view.target_scale, view.target_mean
    if view.target_link == "log":
        # The outputs are log means: contributions stay on that scale and add up to log(predict).
        base = base + np.log(scale)
    elif scale is not None:
        contributions = contributions * scale
        base = base * scale + mean
    base_column = np.broadcast_to(base, (contributions.shape[0], 1, base.shape[0]))
    return np.concatenate([contributions, base_column], axis=1)
