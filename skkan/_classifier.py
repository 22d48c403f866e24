"""KANClassifier: a Kolmogorov-Arnold network for classification."""

import inspect

import numpy as np
from scipy.special import log_softmax
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from ._base import _BaseKAN, _shared_signature_plus
from ._docstrings import fill_shared_docs
from ._labels import class_targets, encode_labels
from ._validation import check_class_labels

__all__ = ["KANClassifier"]

# Floor of the class frequencies whose logits start the output layer: a class
# without weight in the training rows starts very unlikely, not at -inf.
_SMALLEST_PRIOR = 1e-12


def _log_proba_from_logits(logits):
    """Log class probabilities from network outputs of shape (n, 1) or (n, n_classes)."""
    if logits.shape[1] == 1:
        # One logit for two classes: class 0 has logit 0.
        logits = np.column_stack([np.zeros_like(logits[:, 0]), logits[:, 0]])
    return log_softmax(logits, axis=1)


@fill_shared_docs
class KANClassifier(ClassifierMixin, _BaseKAN):
    """Kolmogorov-Arnold network classifier.

    Every edge of the network carries a learnable one-dimensional function
    (a B-spline plus a SiLU residual) and nodes sum their incoming edges. The
    outputs are logits trained with the log-loss: one output for two
    classes, one per class otherwise. Inputs are standardised internally.

    Parameters
    ----------
    {shared_parameters}

    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, ``{label: weight}``; "balanced" weights each
        class by ``n_samples / (n_classes * count)``. They multiply
        ``sample_weight`` (as in scikit-learn) and so weight the loss, the
        input scaling and the knot placement. None: all classes weigh one.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted.

    {shared_attributes}

    See Also
    --------
    KANRegressor : The regression counterpart.
    sklearn.neural_network.MLPClassifier : A multi-layer perceptron.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skkan import KANClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = KANClassifier(random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    >>> clf.score(X, y) > 0.95
    True
    """

    _multi_output_target = False
    _parameter_constraints = {
        **_BaseKAN._parameter_constraints,
        "class_weight": [None, dict, StrOptions({"balanced"})],
    }

    def __init__(self, hidden_layer_sizes="auto", *, class_weight=None, **shared_parameters):
        super().__init__(hidden_layer_sizes, **shared_parameters)
        self.class_weight = class_weight

    # scikit-learn reads the parameter names from the signature of __init__:
    # the shared ones, written once in _BaseKAN, plus class_weight.
    __init__.__signature__ = _shared_signature_plus(
        inspect.Parameter("class_weight", inspect.Parameter.KEYWORD_ONLY, default=None)
    )

    def _class_weighted(self, y, sample_weight, partial=False):
        if self.class_weight is None:
            return sample_weight
        if partial and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit: one chunk does not show the class "
                "frequencies. Compute the weights on the whole data (sklearn.utils.class_weight."
                "compute_class_weight) and pass them as a dict."
            )
        # As scikit-learn does: the class weights multiply the sample weights.
        return sample_weight * compute_sample_weight(self.class_weight, y)

    def _partial_targets(self, y, sample_weight, classes, first):
        check_classification_targets(y)
        if first:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            classes = np.unique(np.asarray(classes))
            if classes.size < 2:
                raise ValueError(f"classes must hold at least 2 labels, got {classes.tolist()}.")
        else:
            if classes is not None and not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
                raise ValueError(
                    f"classes={np.asarray(classes).tolist()} is not the same as on the first call to partial_fit, "
                    f"which was {self.classes_.tolist()}."
                )
            classes = self.classes_
        targets, n_outputs, loss = encode_labels(
            np.asarray(y),
            classes,
            lambda unseen: (
                f"y has labels not in classes: {unseen}. partial_fit cannot add classes after the first call (the "
                f"network's outputs are fixed); the classes are {classes.tolist()}."
            ),
        )
        return targets, n_outputs, loss, {"classes_": classes}

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Train for one epoch of Adam on ``(X, y)``, starting from the current network.

        The first call (on an unfitted estimator) needs ``classes``, builds
        the network and fixes the classes, the input scaling, the categories
        of categorical features and the first grid from that chunk; later
        calls keep them and only train (so chunks should come from one
        distribution). Each call runs one shuffled mini-batch epoch of Adam
        (``learning_rate`` and ``batch_size``, "auto": 1e-2 and 256) with a
        fresh optimiser, no early stopping and no grid extension. After
        :meth:`fit`, it continues from the fitted network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs of one chunk (NaN: missing).
        y : array-like of shape (n_samples,)
            Labels, all from ``classes``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, multiplied by ``class_weight`` (a dict;
            "balanced" needs the whole data and is refused here).
        classes : array-like of shape (n_classes,), default=None
            Every label of the whole stream. Required on the first call;
            later calls may omit it and must not change it.

        Returns
        -------
        self : object
            The estimator, trained one more epoch.
        """
        return self._partial_fit(X, y, sample_weight, classes)

    def _prepare_targets(self, y, sample_weight):
        check_class_labels(y)
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass"):
            raise ValueError(f"KANClassifier supports binary and multiclass targets, got {kind!r} targets.")
        classes, encoded = np.unique(y, return_inverse=True)
        present = np.unique(encoded[sample_weight > 0])
        if classes.size < 2 or present.size < 2:
            raise ValueError(
                "The data must contain samples of at least 2 classes (with positive weight), but it contains only "
                f"1 class: {classes[present[0]] if present.size else classes[0]}."
            )
        return *class_targets(encoded, classes.size), {"classes_": classes}

    def _output_prior(self, targets, sample_weight, n_outputs, loss):
        # The logits of the weighted class frequencies: a network that starts
        # there predicts the weighted majority everywhere, the optimum of a
        # constant model, however extreme the class weights are.
        counts = np.bincount(targets.astype(np.int64), weights=sample_weight, minlength=max(n_outputs, 2))
        frequencies = np.maximum(counts / counts.sum(), _SMALLEST_PRIOR)
        log_frequencies = np.log(frequencies)
        if n_outputs == 1:
            return log_frequencies[1:] - log_frequencies[0]
        return log_frequencies - log_frequencies.mean()

    def _split_stratify(self, y):
        return y

    def decision_function(self, X):
        """Logits of the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, the logit of ``classes_[1]``; otherwise one
            logit per class.
        """
        output = self._raw_output(X)
        return output[:, 0] if output.shape[1] == 1 else output

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        scores = self.decision_function(X)
        index = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[index]

    def predict_log_proba(self, X):
        """Log of the class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        return _log_proba_from_logits(self._raw_output(X))

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to one; columns follow ``classes_``.
        """
        # Exponentiating the log-probabilities keeps both methods consistent.
        return np.exp(self.predict_log_proba(X))
