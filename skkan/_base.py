"""Shared estimator logic: parameters, validation, scaling, the fit driver, prediction."""

import copy
import math
import warnings
from abc import abstractmethod
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._engine import KANNetwork, TrainingConfig, resolve_device, train_network
from ._engine.device import forward_on, usable_device
from ._interpretation_methods import _InterpretationMethods
from ._persistence import dump_state, load_state
from ._scaling import _standardize, _weighted_mean_and_scale
from ._threads import fit_threads
from ._validation import check_numeric_input, check_sample_weight, fitted_state_guard
from ._version import __version__
from ._view import FittedKAN

__all__ = ["_BaseKAN"]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}
# Mini-batch size chosen by batch_size="auto", and the training-set size up to
# which optimizer="auto" takes full-batch L-BFGS (see the class docstrings).
_AUTO_BATCH_SIZE = 256
_AUTO_LBFGS_MAX_SAMPLES = 5000
# early_stopping="auto" needs this many samples (10 validation samples at the default fraction).
_AUTO_EARLY_STOPPING_MIN_SAMPLES = 100
_AUTO_LEARNING_RATE = {"adam": 1e-2, "lbfgs": 1.0}
# Memory a prediction chunk may use in the most demanding layer; the engine
# says how many rows that is (KANNetwork.max_rows_within).
_PREDICT_BUDGET_BYTES = 64 * 2**20
# Rows of the training inputs kept for interpretation (importances, pruning,
# plots, symbolic fits): enough for stable statistics, small enough to pickle.
_INTERPRETATION_ROWS = 2000
# Private attributes a fitted estimator holds; loading refuses any other
# private name (see skkan._persistence). scikit-learn adds the last three.
_PRIVATE_FITTED_ATTRIBUTES = frozenset(
    {
        "_input_mean",
        "_input_scale",
        "_target_mean",
        "_target_scale",
        "_y_ndim",
        "_interpretation_sample",
        "_interpretation_weights",
        "_skkan_version",
        "_sklearn_version",
        "_sklearn_output_config",
        "_metadata_request",
    }
)


def _as_tensor(array, device, dtype):
    """The one place where numpy data becomes a torch tensor."""
    array = np.asarray(array)
    if not array.flags.writeable or not array.flags.c_contiguous:
        # torch refuses to share read-only memory (e.g. joblib memmaps).
        array = np.array(array, order="C")
    return torch.as_tensor(array, device=device, dtype=dtype)


class _BaseKAN(_InterpretationMethods, BaseEstimator):
    """Hyperparameters and fit/predict plumbing shared by the KAN estimators.

    Subclasses say how targets become training targets (``_prepare_targets``),
    how outputs become predictions, and how a validation set is scored.
    """

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 0, None, closed="left")],
        "grid_size": [Interval(Integral, 1, None, closed="left")],
        "spline_order": [Interval(Integral, 1, None, closed="left")],
        "multiplication_nodes": [Interval(Integral, 0, None, closed="left")],
        "lamb": [Interval(Real, 0, None, closed="left")],
        "lamb_l1": [Interval(Real, 0, None, closed="left")],
        "lamb_entropy": [Interval(Real, 0, None, closed="left")],
        "lamb_smoothness": [Interval(Real, 0, None, closed="left")],
        "optimizer": [StrOptions({"auto", "adam", "lbfgs"})],
        "learning_rate": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "grid_extension": [None, "array-like"],
        "grid_eps": [Interval(Real, 0, 1, closed="both")],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "dtype": [StrOptions({"float32", "float64"})],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    # One signature for both estimators: scikit-learn reads the parameter
    # names from ``__init__``, which the subclasses inherit.
    def __init__(
        self,
        hidden_layer_sizes=(8,),
        *,
        grid_size=5,
        spline_order=3,
        multiplication_nodes=0,
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
        self.hidden_layer_sizes = hidden_layer_sizes
        self.grid_size = grid_size
        self.spline_order = spline_order
        self.multiplication_nodes = multiplication_nodes
        self.lamb = lamb
        self.lamb_l1 = lamb_l1
        self.lamb_entropy = lamb_entropy
        self.lamb_smoothness = lamb_smoothness
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.grid_extension = grid_extension
        self.grid_eps = grid_eps
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.dtype = dtype
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    # ------------------------------------------------------------------
    # Hooks for the subclasses
    # ------------------------------------------------------------------
    @abstractmethod
    def _prepare_targets(self, y, sample_weight):
        """Return ``(targets, n_outputs, loss, target_state)`` for training.

        ``targets`` is a numpy array in the form the engine loss expects and
        ``target_state`` a dict of fitted attributes set only if fit succeeds.
        """

    @abstractmethod
    def _validation_score(self, y_true, raw_output, sample_weight):
        """Score (higher is better) of raw network outputs on held-out rows."""

    def _split_stratify(self, y):
        """Labels to stratify the validation split by (None: plain split)."""
        return None

    # ------------------------------------------------------------------
    # Validation helpers
    # ------------------------------------------------------------------
    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
        # A hidden layer may have product nodes only (multiplication_nodes).
        smallest = 0 if self.multiplication_nodes else 1
        if not all(isinstance(s, Integral) and not isinstance(s, bool) and s >= smallest for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}.")
        return [int(s) for s in sizes]

    def _extra_grid_sizes(self):
        """Grid sizes of the extension stages after the initial ``grid_size``."""
        if self.grid_extension is None:
            return ()
        sizes = np.asarray(self.grid_extension).ravel().tolist()
        previous = self.grid_size
        for size in sizes:
            if not isinstance(size, Integral) or isinstance(size, bool) or size <= previous:
                raise ValueError(
                    "grid_extension must be increasing integer grid sizes larger than grid_size="
                    f"{self.grid_size}, got {self.grid_extension!r}."
                )
            previous = size
        return tuple(int(s) for s in sizes)

    # ------------------------------------------------------------------
    # Fit driver
    # ------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs (numeric; NaN and infinite values are rejected).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets: numbers for :class:`KANRegressor` (one column per
            output), class labels (numbers or strings, at least two distinct
            ones) for :class:`KANClassifier`.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; they weight the loss and every data
            statistic (input scaling, knot placement). Only their ratios
            matter.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    def _fit(self, X, y, sample_weight):
        # A failed fit leaves the estimator as it was; torch threads follow
        # the policy of skkan._threads (one per fit inside parallel workers).
        with fitted_state_guard(self), fit_threads():
            return self._fit_unguarded(X, y, sample_weight)

    def _fit_unguarded(self, X, y, sample_weight):
        hidden = self._hidden_layer_sizes()
        extra_grid_sizes = self._extra_grid_sizes()
        reuse = self.warm_start and hasattr(self, "network_")
        check_numeric_input(X, type(self).__name__)
        X, y = validate_data(
            self,
            X,
            y,
            reset=not reuse,
            dtype=[np.float64, np.float32],
            multi_output=self._multi_output_target,
            y_numeric=self._multi_output_target,
            ensure_min_samples=2,
        )
        sample_weight = check_sample_weight(sample_weight, X)
        targets, n_outputs, loss, target_state = self._prepare_targets(y, sample_weight)

        device = resolve_device(self.device)
        dtype = _DTYPES[self.dtype]
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        generator = torch.Generator().manual_seed(int(seed))

        if reuse:
            same_classes = "classes_" not in target_state or np.array_equal(target_state["classes_"], self.classes_)
            if self.network_.widths[-1] != n_outputs or not same_classes:
                raise ValueError("warm_start=True needs the same outputs (or classes) as the previous fit.")
            input_mean, input_scale = self._input_mean, self._input_scale
            network = copy.deepcopy(self.network_).to(device=device, dtype=dtype)
        else:
            input_mean, input_scale = _weighted_mean_and_scale(X.astype(np.float64), sample_weight)
            # Each hidden level has its sum nodes followed by its product nodes.
            products = [0, *[self.multiplication_nodes] * len(hidden), 0]
            if self.multiplication_nodes and not hidden:
                raise ValueError("multiplication_nodes needs at least one hidden layer (hidden_layer_sizes).")
            widths = [X.shape[1], *(size + self.multiplication_nodes for size in hidden), n_outputs]
            network = KANNetwork(
                widths,
                self.grid_size,
                self.spline_order,
                generator=generator,
                dtype=dtype,
                multiplication_nodes=products,
            ).to(device)
        X_scaled = _standardize(X, input_mean, input_scale)

        early_stopping = self._resolve_early_stopping(X.shape[0])
        train_rows, validation_rows = self._train_validation_rows(X.shape[0], targets, seed, early_stopping)
        n_train = train_rows.size
        optimizer = self.optimizer
        if optimizer == "auto":
            optimizer = "lbfgs" if not early_stopping and n_train <= _AUTO_LBFGS_MAX_SAMPLES else "adam"
        learning_rate = _AUTO_LEARNING_RATE[optimizer] if self.learning_rate == "auto" else float(self.learning_rate)
        batch_size = min(_AUTO_BATCH_SIZE if self.batch_size == "auto" else self.batch_size, n_train)
        config = TrainingConfig(
            loss=loss,
            optimizer=optimizer,
            learning_rate=learning_rate,
            max_iter=self.max_iter,
            batch_size=batch_size,
            extra_grid_sizes=() if reuse else extra_grid_sizes,
            grid_eps=self.grid_eps,
            lamb=self.lamb,
            lamb_l1=self.lamb_l1,
            lamb_entropy=self.lamb_entropy,
            lamb_smoothness=self.lamb_smoothness,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            early_stopping=early_stopping,
            verbose=self.verbose,
        )
        target_dtype = torch.long if loss == "log_loss" else dtype
        x_train = _as_tensor(X_scaled[train_rows], device, dtype)
        t_train = _as_tensor(targets[train_rows], device, target_dtype)
        w_train = _as_tensor(sample_weight[train_rows], device, dtype)
        score_fn = None
        if early_stopping:
            x_val = _as_tensor(X_scaled[validation_rows], device, dtype)
            y_val, w_val = targets[validation_rows], sample_weight[validation_rows]

            def score_fn(net):
                with torch.no_grad():
                    raw = net(x_val).cpu().numpy().astype(np.float64)
                return self._validation_score(y_val, raw, w_val)

        result = train_network(network, x_train, t_train, w_train, config, generator=generator, score_fn=score_fn)

        # Only now, with training done, does the estimator change.
        self.network_ = result.network.to("cpu")
        self._input_mean, self._input_scale = input_mean, input_scale
        self._store_interpretation_sample(X_scaled, sample_weight, seed)
        for name, value in target_state.items():
            setattr(self, name, value)
        self.device_ = str(device)
        self.n_params_ = self.network_.n_active_parameters()
        previous_iter = getattr(self, "n_iter_", 0) if reuse else 0
        self.n_iter_ = previous_iter + result.n_iter
        self.loss_curve_ = (list(self.loss_curve_) if reuse else []) + result.loss_curve
        self.best_loss_ = min(self.loss_curve_) if self.loss_curve_ else math.inf
        self.early_stopping_ = early_stopping
        if early_stopping:
            self.validation_scores_ = (
                list(getattr(self, "validation_scores_", None) or []) if reuse else []
            ) + result.validation_scores
            self.best_validation_score_ = max(self.validation_scores_)
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
        self.optimizer_ = optimizer
        self._skkan_version = __version__
        self._warn_about_training(result)
        return self

    def _resolve_early_stopping(self, n_samples):
        if self.early_stopping == "auto":
            return n_samples >= _AUTO_EARLY_STOPPING_MIN_SAMPLES
        return bool(self.early_stopping)

    def _train_validation_rows(self, n_samples, targets, seed, early_stopping):
        rows = np.arange(n_samples)
        if not early_stopping:
            return rows, rows[:0]
        from sklearn.model_selection import train_test_split

        stratify = self._split_stratify(targets)
        try:
            train, validation = train_test_split(
                rows, test_size=self.validation_fraction, random_state=seed, stratify=stratify
            )
        except ValueError:
            # Too few samples of some class to stratify: fall back to a plain split.
            train, validation = train_test_split(rows, test_size=self.validation_fraction, random_state=seed)
        if train.size < 2 or validation.size < 1:
            raise ValueError(
                f"early_stopping needs at least 2 training and 1 validation sample; with {n_samples} samples and "
                f"validation_fraction={self.validation_fraction} the split leaves too few."
            )
        return np.sort(train), np.sort(validation)

    def _warn_about_training(self, result):
        if result.diverged:
            warnings.warn(
                f"Training diverged (the loss became NaN or infinite) after {result.n_iter} iterations; the best "
                "parameters seen before were restored. Lower learning_rate or check the data for extreme values.",
                ConvergenceWarning,
            )
        elif result.interrupted:
            warnings.warn(
                f"Training was interrupted after {result.n_iter} iterations; the estimator keeps the best state "
                "reached so far and can be used or fitted further (warm_start=True).",
                UserWarning,
            )
        elif not result.converged:
            warnings.warn(
                f"{self.optimizer_} optimizer: maximum iterations ({self.max_iter}) reached and the optimization "
                "hasn't converged yet.",
                ConvergenceWarning,
            )

    def _store_interpretation_sample(self, X_scaled, sample_weight, seed):
        rows = np.flatnonzero(sample_weight > 0)
        if rows.size > _INTERPRETATION_ROWS:
            rows = np.sort(check_random_state(seed).choice(rows, _INTERPRETATION_ROWS, replace=False))
        self._interpretation_sample = np.asarray(X_scaled[rows], dtype=np.float64)
        self._interpretation_weights = np.asarray(sample_weight[rows], dtype=np.float64)

    @property
    def fitted_view_(self):
        """Read-only view of the fitted network, scaling and names (:class:`skkan.FittedKAN`).

        What :mod:`skkan.interpret` reads, and the public way to inspect a
        fitted KAN: widths, knots, coefficients, symbolic edges, input and
        target scaling, feature and output names, the training sample kept
        for interpretation.
        """
        check_is_fitted(self)
        return FittedKAN(self)

    # ------------------------------------------------------------------
    # Prediction
    # ------------------------------------------------------------------

    def _raw_output(self, X):
        """Network outputs for ``X`` as a float64 numpy array of shape (n, n_outputs)."""
        check_is_fitted(self)
        check_numeric_input(X, type(self).__name__)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return self._network_output(X)

    def _network_output(self, X):
        # Inputs are scaled chunk by chunk, so no full scaled copy of X exists.
        # The fitted network stays on the CPU; a model fitted on a device this
        # machine lacks computes on the CPU, with a warning.
        network = self.network_
        device = usable_device(self.device_, what=f"This {type(self).__name__}")
        forward = forward_on(network, device)
        dtype = next(network.parameters()).dtype
        chunk = network.max_rows_within(_PREDICT_BUDGET_BYTES)
        outputs = []
        with torch.no_grad():
            for start in range(0, X.shape[0], chunk):
                X_scaled = _standardize(X[start : start + chunk], self._input_mean, self._input_scale)
                outputs.append(forward(_as_tensor(X_scaled, device, dtype)).cpu().numpy().astype(np.float64))
        output = np.concatenate(outputs, axis=0) if outputs else np.zeros((0, network.widths[-1]))
        bad_rows = ~np.isfinite(output).all(axis=1)
        if bad_rows.any():
            # Never a silent NaN: a finite input can still overflow a snapped
            # closed-form edge (exp, 1/x) or a tampered network.
            raise ValueError(
                f"The model's output is NaN or infinite for {int(bad_rows.sum())} of {output.shape[0]} rows "
                f"(first: row {int(np.flatnonzero(bad_rows)[0])}); these inputs overflow the fitted network."
            )
        return output

    def __getstate__(self):
        # Networks are saved as numpy arrays plus a spec (see skkan._persistence):
        # device-independent, and loadable with skops.io.
        return dump_state(super().__getstate__())

    def __setstate__(self, state):
        super().__setstate__(load_state(state, type(self), _PRIVATE_FITTED_ATTRIBUTES))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
