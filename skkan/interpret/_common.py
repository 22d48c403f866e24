"""What every interpretation function needs: an estimator's public fitted view, node names, and pyplot."""

from sklearn.utils.validation import check_is_fitted

__all__ = ["fitted_view", "import_pyplot", "node_label", "replace_network", "single_network_view", "subnode_label"]


def import_pyplot():
    """``matplotlib.pyplot``, imported on first use (matplotlib is the optional ``plot`` extra)."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("Plotting needs matplotlib; install it with `pip install skkan[plot]`.") from error
    return plt


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


def single_network_view(estimator, what):
    """:func:`fitted_view` for what needs one network (``what``: pruning, formulas), not an ensemble.

    Raises
    ------
    ValueError
        If the estimator is an ensemble (``ensemble_size > 1``): its prediction
        is a mean of several networks, which no single formula or pruning
        describes.
    """
    view = fitted_view(estimator)
    if view.ensemble_size > 1:
        raise ValueError(
            f"{what} needs a single network, but this {type(estimator).__name__} is an ensemble of "
            f"{view.ensemble_size} (ensemble_size={view.ensemble_size}); refit with ensemble_size=1. Importances, "
            "plots and predictions work for ensembles."
        )
    return view


def replace_network(estimator, network):
    """Give ``estimator`` a changed network (pruned, snapped) through its public attributes."""
    estimator.network_ = network
    estimator.n_params_ = network.n_active_parameters()


def node_label(view, level, k):
    """Readable name of node ``k`` of ``level``: a feature, an output, ``h1.0`` or a product ``m1.0``."""
    if level == 0:
        return view.feature_names[k]
    if level == view.n_layers:
        return view.output_names[k]
    n_sums = view.widths[level] - view.multiplication_nodes[level]
    return f"m{level}.{k - n_sums}" if k >= n_sums else f"h{level}.{k}"


def subnode_label(view, layer, j):
    """Readable name of output ``j`` of ``layer``: its node, plus ``[a]``/``[b]`` for a product's factors."""
    nodes = view.subnode_nodes(layer)
    node = int(nodes[j])
    label = node_label(view, layer + 1, node)
    if view.is_product_node(layer + 1, node):
        first = int((nodes == node).argmax())
        label += "[a]" if j == first else "[b]"
    return label
