"""KANRegressor: a Kolmogorov-Arnold network for regression."""

import numpy as np
from sklearn.base import RegressorMixin

from ._base import _BaseKAN
from ._docstrings import fill_shared_docs
from ._scaling import _weighted_mean_and_scale

__all__ = ["KANRegressor"]


def _numeric_targets(y):
    """``y`` as float64, or a ValueError that points class labels to KANClassifier."""
    try:
        return np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        pass
    example = None
    for value in np.asarray(y, dtype=object).ravel():
        try:
            float(value)
        except (TypeError, ValueError):
            example = value.item() if isinstance(value, np.generic) else value
            break
    raise ValueError(
        f"KANRegressor needs numeric targets, but y contains non-numeric values such as {example!r}. "
        "To predict class labels use KANClassifier; otherwise convert y to numbers."
    )


@fill_shared_docs
class KANRegressor(RegressorMixin, _BaseKAN):
    """Kolmogorov-Arnold network regressor.

    Every edge of the network carries a learnable one-dimensional function
    (a B-spline plus a SiLU residual) and nodes sum their incoming edges.
    Inputs and targets are standardised internally, so no scaler is needed
    in front of it, and inputs outside the training range give finite
    predictions: each spline is held constant beyond its grid while the SiLU
    residual keeps extrapolating.

    Parameters
    ----------
    {shared_parameters}

    Attributes
    ----------
    {shared_attributes}

    See Also
    --------
    KANClassifier : The classification counterpart.
    sklearn.neural_network.MLPRegressor : A multi-layer perceptron.

    Examples
    --------
    >>> import numpy as np
    >>> from skkan import KANRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(200, 2))
    >>> y = np.sin(np.pi * X[:, 0]) + X[:, 1] ** 2
    >>> reg = KANRegressor(hidden_layer_sizes=(3,), random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.99
    True
    """

    _multi_output_target = True

    def _prepare_targets(self, y, sample_weight):
        y = _numeric_targets(y)
        if not np.all(np.isfinite(y)):
            raise ValueError("Input y contains NaN or infinity.")
        y_2d = y.reshape(-1, 1) if y.ndim == 1 else y
        mean, scale = _weighted_mean_and_scale(y_2d, sample_weight)
        state = {"_target_mean": mean, "_target_scale": scale, "_y_ndim": y.ndim}
        return (y_2d - mean) / scale, y_2d.shape[1], "squared_error", state

    def predict(self, X):
        """Predict targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions, in the shape of the training targets.
        """
        output = self._raw_output(X) * self._target_scale + self._target_mean
        return output[:, 0] if self._y_ndim == 1 else output

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
