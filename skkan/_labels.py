"""Class labels as the network's training targets, the one encoding every caller shares."""

import numpy as np

from ._engine.losses import Loss

__all__ = ["class_targets", "encode_labels"]


def class_targets(codes, n_classes):
    """Training targets of class ``codes`` (indices into the sorted classes) and the loss that reads them.

    Returns
    -------
    targets : ndarray
        0/1 floats for two classes (one logit, ``"binary_log_loss"``),
        int64 class indices otherwise (one logit per class, ``"log_loss"``).
    n_outputs : int
    loss : Loss
    """
    if n_classes == 2:
        return codes.astype(np.float64), 1, Loss("binary_log_loss")
    return codes.astype(np.int64), n_classes, Loss("log_loss")


def encode_labels(y, classes, unseen_message):
    """:func:`class_targets` of labels ``y`` among the sorted ``classes``.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
    classes : ndarray
        Sorted labels (``classes_``).
    unseen_message : callable
        Called with the first few labels of ``y`` that are not in ``classes``,
        returns the text of the ``ValueError`` raised for them.
    """
    unseen = ~np.isin(y, classes)
    if unseen.any():
        raise ValueError(unseen_message(np.unique(y[unseen])[:5].tolist()))
    return class_targets(np.searchsorted(classes, y), classes.size)
