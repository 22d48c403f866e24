"""KANClassifier: a Kolmogorov-Arnold network for classification."""

import numpy as np
from scipy.special import log_softmax
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from ._base import _BaseKAN
from ._docstrings import fill_shared_docs
from ._validation import check_class_labels

__all__ = ["KANClassifier"]


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
        if classes.size == 2:
            return encoded.astype(np.float64), 1, "binary_log_loss", {"classes_": classes}
        return encoded.astype(np.int64), classes.size, "log_loss", {"classes_": classes}

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
