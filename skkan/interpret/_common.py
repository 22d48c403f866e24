"""What every interpretation function needs from an estimator: its public fitted view."""

from sklearn.utils.validation import check_is_fitted

__all__ = ["fitted_view", "replace_network"]


def fitted_view(estimator):
    """The read-only :class:`~skkan.FittedKAN` view of a fitted estimator.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    TypeError
        If ``estimator`` is not a skkan estimator.
    """
    check_is_fitted(estimator)
    view = getattr(estimator, "fitted_view_", None)
    if view is None:
        raise TypeError(f"Expected a fitted skkan KANRegressor or KANClassifier, got {type(estimator).__name__}.")
    return view


def replace_network(estimator, network):
    """Give ``estimator`` a changed network (pruned, snapped) through its public attributes."""
    estimator.network_ = network
    estimator.n_params_ = network.n_active_parameters()
