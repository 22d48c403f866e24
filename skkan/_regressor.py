"""KANRegressor: a Kolmogorov-Arnold network for regression."""

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils.validation import check_array

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
    in front of it. Inputs outside the training range are held at its
    edges by default (``extrapolation="constant"``), so predictions stay
    constant beyond the data.

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

    def _output_prior(self, targets, sample_weight, n_outputs):
        # The weighted mean of the scaled targets: zero over all rows, close to it over a training split.
        return np.average(targets, axis=0, weights=sample_weight)

    def _partial_targets(self, y, sample_weight, classes, first):
        if first:
            return self._prepare_targets(y, sample_weight)
        y = np.asarray(y, dtype=np.float64)
        if not np.all(np.isfinite(y)):
            raise ValueError("Input y contains NaN or infinity.")
        y_2d = y.reshape(-1, 1) if y.ndim == 1 else y
        if y.ndim != self._y_ndim or y_2d.shape[1] != self._target_mean.size:
            raise ValueError(
                f"y has shape {y.shape}, but the first call to partial_fit had {self._target_mean.size} output(s) "
                f"as a {self._y_ndim}-D array."
            )
        # The target scaling of the first call stays.
        return (y_2d - self._target_mean) / self._target_scale, y_2d.shape[1], "squared_error", {}

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch of Adam on ``(X, y)``, starting from the current network.

        The first call (on an unfitted estimator) builds the network and
        fixes the input and target scaling, the categories of categorical
        features and the first grid from that chunk; later calls keep them
        and only train (so chunks should come from one distribution). Each
        call runs one shuffled mini-batch epoch of Adam (``learning_rate``
        and ``batch_size``, "auto": 1e-2 and 256) with a fresh optimiser, no
        early stopping and no grid extension. After :meth:`fit`, it
        continues from the fitted network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs of one chunk (NaN: missing).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets, of the same shape as in the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights.

        Returns
        -------
        self : object
            The estimator, trained one more epoch.
        """
        return self._partial_fit(X, y, sample_weight, classes=None)

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

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R² of the predictions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            R² of ``self.predict(X)`` against ``y``, averaged over outputs.
        """
        y_pred = self.predict(X)
        y = check_array(y, ensure_2d=False, dtype="numeric", ensure_all_finite=True, input_name="y")
        # R² does not depend on the units of y; measured in the fitted target
        # scale, targets near 1e300 do not overflow its sums of squares.
        scale = self._target_scale if y_pred.ndim == 2 else self._target_scale[0]
        return r2_score(y / scale, y_pred / scale, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
