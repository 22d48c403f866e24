"""KANRegressor: a Kolmogorov-Arnold network for regression."""

import inspect
from numbers import Real

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array

from ._base import _BaseKAN, _shared_signature_plus
from ._docstrings import fill_shared_docs
from ._engine.losses import LOG_LINK_LOSSES, REGRESSION_LOSSES, Loss
from ._regression_targets import (
    check_regression_targets,
    fit_target_scaling,
    loss_from_state,
    loss_state,
    regression_loss,
    target_prior,
)

__all__ = ["KANRegressor"]


def _finite_targets(y):
    """``y`` as a finite float64 2-D array (one column per output), and its number of dimensions."""
    y = _numeric_targets(y)
    if not np.all(np.isfinite(y)):
        raise ValueError("Input y contains NaN or infinity.")
    return (y.reshape(-1, 1) if y.ndim == 1 else y), y.ndim


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
    Inputs and targets are scaled internally, so no scaler is needed in
    front of it. Inputs outside the training range are held at its edges by
    default (``extrapolation="constant"``), so predictions stay constant
    beyond the data.

    Parameters
    ----------
    {shared_parameters}

    loss : {"squared_error", "absolute_error", "huber", "quantile", "poisson", "gamma"}, default="squared_error"
        The loss the network is trained on, and that early stopping, the
        plateau schedule and the linear start follow. ``"absolute_error"``
        predicts the conditional median, ``"quantile"`` the conditional
        ``quantile`` (for prediction intervals), and ``"huber"`` is squared
        error near the fit and absolute error beyond ``huber_delta`` (for
        heavy-tailed noise). ``"poisson"`` (counts, rates; y >= 0 with a
        positive sum) and ``"gamma"`` (positive skewed targets such as
        costs or waiting times; y > 0) are deviances with a log link: the
        network predicts the log of the mean, so predictions are always
        positive, :meth:`symbolic_formula` shows the ``exp`` and
        :meth:`predict_contributions` adds up to ``log(predict(X))``. The
        network starts at the loss's best constant (mean, median, quantile,
        Huber location, or log of the mean). ``score`` stays R², as in
        scikit-learn.

    quantile : float in (0, 1), default=None
        The quantile ``loss="quantile"`` predicts (needed with that loss,
        ignored otherwise), e.g. 0.1 and 0.9 for an 80% prediction interval.

    huber_delta : float or "auto", default="auto"
        Threshold of ``loss="huber"`` in the units of y: residuals smaller
        than it are squared, larger ones count linearly. ``"auto"`` is 1.35
        robust standard deviations of y (its interquartile range / 1.349),
        scikit-learn's ``HuberRegressor`` choice, which keeps 95% of the
        efficiency of squared error on normal noise. Ignored by other losses.

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
    _parameter_constraints = {
        **_BaseKAN._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
        "quantile": [None, Interval(Real, 0, 1, closed="neither")],
        "huber_delta": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        hidden_layer_sizes="auto",
        *,
        loss="squared_error",
        quantile=None,
        huber_delta="auto",
        **shared_parameters,
    ):
        super().__init__(hidden_layer_sizes, **shared_parameters)
        self.loss = loss
        self.quantile = quantile
        self.huber_delta = huber_delta

    # scikit-learn reads the parameter names from the signature of __init__:
    # the shared ones, written once in _BaseKAN, plus the loss and its parameters.
    __init__.__signature__ = _shared_signature_plus(
        inspect.Parameter("loss", inspect.Parameter.KEYWORD_ONLY, default="squared_error"),
        inspect.Parameter("quantile", inspect.Parameter.KEYWORD_ONLY, default=None),
        inspect.Parameter("huber_delta", inspect.Parameter.KEYWORD_ONLY, default="auto"),
    )

    def _prepare_targets(self, y, sample_weight):
        y_2d, y_ndim = _finite_targets(y)
        check_regression_targets(y_2d, sample_weight, self.loss)
        mean, scale = fit_target_scaling(y_2d, sample_weight, self.loss)
        loss = regression_loss(self.loss, scale, self.quantile, self.huber_delta)
        state = {"_target_mean": mean, "_target_scale": scale, "_y_ndim": y_ndim, "_training_loss": loss_state(loss)}
        return (y_2d - mean) / scale, y_2d.shape[1], loss, state

    def _output_prior(self, targets, sample_weight, n_outputs, loss):
        # The loss's best constant in training units: for squared error the weighted mean of the
        # standardised targets (zero over all rows, close to it over a training split).
        return target_prior(targets, sample_weight, loss)

    def _fitted_loss(self):
        """The engine loss the network was trained with (squared error for models saved before losses)."""
        state = getattr(self, "_training_loss", None)
        return Loss("squared_error") if state is None else loss_from_state(state, self._target_mean.size)

    def _training_targets(self, y):
        """Targets ``y`` in the fitted model's training units, and its loss; a ValueError for wrong ones."""
        y_2d, y_ndim = _finite_targets(y)
        if y_ndim != self._y_ndim or y_2d.shape[1] != self._target_mean.size:
            raise ValueError(
                f"y has shape {y_2d.shape if y_ndim == 2 else (y_2d.shape[0],)}, but the model was fitted on "
                f"{self._target_mean.size} output(s) as a {self._y_ndim}-D array."
            )
        loss = self._fitted_loss()
        check_regression_targets(y_2d, np.ones(y_2d.shape[0]), loss.name)
        return (y_2d - self._target_mean) / self._target_scale, loss

    def _partial_targets(self, y, sample_weight, classes, first):
        if first:
            return self._prepare_targets(y, sample_weight)
        # The target scaling of the first call stays.
        targets, loss = self._training_targets(y)
        return targets, targets.shape[1], loss, {}

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
        output = self._raw_output(X)
        if self._fitted_loss().log_link:
            output = np.exp(output)
        output = output * self._target_scale + self._target_mean
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
        # Poisson and Gamma deviance need positive targets (scikit-learn's checks then make y positive).
        tags.target_tags.positive_only = self.loss in LOG_LINK_LOSSES
        return tags
