"""``partial_fit``: training on a stream of chunks, one epoch of Adam per call.

The first call fixes everything the data decides once: the input scaling
(and regression target scaling), the categories of categorical features,
the knots of the first grid, and for a classifier the classes. Later calls
reuse them and only train, so chunks must come from the same distribution
as the first one. This is what :class:`dask_ml.wrappers.Incremental` needs
to train over a chunked array that does not fit in memory.
"""

import copy
import math

import numpy as np
import torch
from sklearn.utils import check_random_state

from ._encoding import InputEncoding
from ._engine import TrainingConfig, resolve_device
from ._engine.device import device_dtype
from ._engine.incremental import train_one_epoch
from ._engine.tabular import record_missing_inputs
from ._recipe import resolve_ensemble_size
from ._tabular import categories_per_input, validate_tabular_data
from ._tensors import _as_tensor
from ._threads import fit_threads
from ._validation import check_sample_weight, fitted_state_guard
from ._version import __version__

__all__ = ["_IncrementalFit"]

# Adam's step with learning_rate="auto", and the mini-batch size with
# batch_size="auto" (the estimators' Adam recipe).
_PARTIAL_FIT_LEARNING_RATE = 1e-2
_PARTIAL_FIT_BATCH_SIZE = 256


class _IncrementalFit:
    """The ``partial_fit`` driver shared by both estimators (see the module docstring)."""

    def _partial_fit(self, X, y, sample_weight, classes):
        with fitted_state_guard(self), fit_threads():
            return self._partial_fit_unguarded(X, y, sample_weight, classes)

    def _partial_fit_unguarded(self, X, y, sample_weight, classes):
        first = not hasattr(self, "network_")
        X, y, categorical = validate_tabular_data(
            self,
            X,
            y,
            reset=first,
            multi_output=self._multi_output_target,
            y_numeric=self._multi_output_target,
        )
        sample_weight = check_sample_weight(
            self._class_weighted(y, check_sample_weight(sample_weight, X, normalize=False), partial=True), X
        )
        targets, n_outputs, loss, target_state = self._partial_targets(y, sample_weight, classes, first)

        device = resolve_device(self.device)
        # The first call chooses the dtype; later calls keep the network's.
        dtype = device_dtype(self.dtype, device) if first else next(self.network_.parameters()).dtype
        # A different shuffle for every call, reproducible from random_state.
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        seed = (int(seed) + (0 if first else int(self.n_iter_))) % np.iinfo(np.int32).max
        generator = torch.Generator().manual_seed(seed)
        if first:
            encoding = InputEncoding.fit(X, sample_weight, categorical[1])
            # partial_fit has no validation split: the recipe's rule without early stopping.
            members = resolve_ensemble_size(self.get_params(deep=False), early_stopping=False)
            groups, monotone, hidden = self._constrained_widths(X, categorical, n_outputs)
            n_categories = categories_per_input(*categorical, X.shape[1])
            network = self._new_tabular_network(
                X.shape[1], hidden, n_outputs, generator, dtype, members, device, n_categories, groups, monotone
            )
        else:
            encoding = self._input_encoding
            network = copy.deepcopy(self.network_).to(device=device, dtype=dtype)
        X_scaled = encoding.standardize(X)
        learning_rate = _PARTIAL_FIT_LEARNING_RATE if self.learning_rate == "auto" else float(self.learning_rate)
        batch_size = _PARTIAL_FIT_BATCH_SIZE if self.batch_size == "auto" else self.batch_size
        config = TrainingConfig(
            loss=loss,
            optimizer="adam",
            learning_rate=learning_rate,
            max_iter=1,
            batch_size=min(batch_size, X.shape[0]),
            **self._regularization(),
            verbose=self.verbose,
        )
        target_dtype = loss.target_dtype(dtype)
        x = _as_tensor(X_scaled, device, dtype)
        record_missing_inputs(network, x)
        epoch_loss = train_one_epoch(
            network,
            x,
            _as_tensor(targets, device, target_dtype),
            _as_tensor(sample_weight, device, dtype),
            config,
            generator=generator,
            place_grid=first,
        )

        self._store_fitted_network(
            network,
            encoding,
            X_scaled,
            sample_weight,
            seed,
            target_state,
            device,
            extend_range=not first,
        )
        self.n_iter_ = (0 if first else self.n_iter_) + 1
        self.loss_curve_ = ([] if first else list(self.loss_curve_)) + [epoch_loss]
        self.best_loss_ = min(self.loss_curve_) if self.loss_curve_ else math.inf
        self.early_stopping_ = False
        self.validation_scores_ = None
        self.best_validation_score_ = None
        self.optimizer_ = "adam"
        self._skkan_version = __version__
        return self
