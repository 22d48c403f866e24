"""KANRegressor: a Kolmogorov-Arnold network for regression."""

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score

from ._base import _BaseKAN, _weighted_mean_and_scale
from ._docstrings import fill_shared_docs

__all__ = ["KANRegressor"]


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

    def __init__(
        self,
        hidden_layer_sizes=(8,),
        *,
        grid_size=5,
        spline_order=3,
        lamb=0.0,
        lamb_l1=1.0,
        lamb_entropy=2.0,
        lamb_smoothness=0.0,
        optimizer="auto",
        learning_rate="auto",
        max_iter=200,
        batch_size="auto",
        grid_extension=None,
        grid_eps=0.02,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        dtype="float32",
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            grid_size=grid_size,
            spline_order=spline_order,
            lamb=lamb,
            lamb_l1=lamb_l1,
            lamb_entropy=lamb_entropy,
            lamb_smoothness=lamb_smoothness,
            optimizer=optimizer,
            learning_rate=learning_rate,
            max_iter=max_iter,
            batch_size=batch_size,
            grid_extension=grid_extension,
            grid_eps=grid_eps,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            dtype=dtype,
            device=device,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs (numeric; NaN and infinite values are rejected).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; they weight the loss and every data
            statistic (input scaling, knot placement).

        Returns
        -------
        self : KANRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    def _prepare_targets(self, y, sample_weight):
        y = np.asarray(y, dtype=np.float64)
        if not np.all(np.isfinite(y)):
            raise ValueError("Input y contains NaN or infinity.")
        y_2d = y.reshape(-1, 1) if y.ndim == 1 else y
        mean, scale = _weighted_mean_and_scale(y_2d, sample_weight)
        state = {"_target_mean": mean, "_target_scale": scale, "_y_ndim": y.ndim}
        return (y_2d - mean) / scale, y_2d.shape[1], "squared_error", state

    def _validation_score(self, y_true, raw_output, sample_weight):
        return r2_score(y_true, raw_output, sample_weight=sample_weight)

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
