"""Shared estimator logic: parameters, validation, scaling, the fit driver, prediction."""

import copy
import dataclasses
import inspect
import math
import os
import sys
import warnings
from abc import abstractmethod
from numbers import Integral, Real

import numpy as np
import sklearn.base
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._architecture import _NetworkArchitecture
from ._encoding import InputEncoding
from ._engine import TrainingConfig, resolve_device, train_network
from ._engine.device import forward_on, usable_device
from ._engine.linear_start import linear_start_possible, start_at_linear
from ._engine.losses import calibrate_quantile_output, evaluation_loss, loss_advantage
from ._engine.tabular import fill_unobserved_values, record_missing_inputs
from ._incremental import _IncrementalFit
from ._interpretation_methods import _InterpretationMethods
from ._linear_reference import fit_linear_start
from ._persistence import dump_state, load_state
from ._progress import progress_reporter
from ._recipe import resolve_init, resolve_recipe
from ._tabular import categories_per_input, validate_tabular_data
from ._tensors import _as_tensor
from ._threads import fit_threads
from ._validation import (
    check_sample_weight,
    fitted_state_guard,
    overflow_as_divergence,
)
from ._version import __version__
from ._view import FittedKAN

__all__ = ["_BaseKAN"]

# Memory a prediction chunk may use in the most demanding layer; the engine
# says how many rows that is (KANNetwork.max_rows_within).
_PREDICT_BUDGET_BYTES = 64 * 2**20
# Validation rows a quantile model's coverage is calibrated on at least
# (skkan._engine.losses.calibrate_quantile_output): the calibrated coverage
# is off by its sampling error, sqrt(q (1 - q) / rows), 0.0095 for 1000 rows
# at q = 0.1; with fewer rows that error exceeds what calibration corrects
# (0.01-0.03 on 3,000-10,000 training rows of real tables).
_MIN_CALIBRATION_ROWS = 1000
# Rows of the training inputs kept for interpretation (importances, pruning,
# plots, symbolic fits): enough for stable statistics, small enough to pickle.
_INTERPRETATION_ROWS = 2000
# Private attributes a fitted estimator holds; loading refuses any other
# private name (see skkan._persistence). scikit-learn adds the last three.
_PRIVATE_FITTED_ATTRIBUTES = frozenset(
    {
        "_architecture",
        "_input_encoding",
        "_target_mean",
        "_target_scale",
        "_training_loss",
        "_y_ndim",
        "_interpretation_sample",
        "_interpretation_weights",
        "_skkan_version",
        "_sklearn_version",
        "_sklearn_output_config",
        "_metadata_request",
    }
)


# Fit warnings skip the frames of skkan and of scikit-learn's fit wrapper
# (``_fit_context`` in sklearn/base.py) to point at the line that called fit.
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_SKLEARN_BASE_FILE = os.path.abspath(sklearn.base.__file__)


def _user_stacklevel():
    """``stacklevel`` for the caller's ``warnings.warn`` that names the first frame outside skkan."""
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and (
        frame.f_code.co_filename.startswith(_PACKAGE_DIR) or frame.f_code.co_filename == _SKLEARN_BASE_FILE
    ):
        frame, level = frame.f_back, level + 1
    return level


class _BaseKAN(_NetworkArchitecture, _IncrementalFit, _InterpretationMethods, BaseEstimator):
    """Hyperparameters and fit/predict plumbing shared by the KAN estimators.

    Subclasses say how targets become training targets (``_prepare_targets``)
    and how outputs become predictions.
    """

    _parameter_constraints = {
        "hidden_layer_sizes": [StrOptions({"auto"}), "array-like", Interval(Integral, 0, None, closed="left")],
        "grid_size": [Interval(Integral, 1, None, closed="left")],
        "spline_order": [Interval(Integral, 1, None, closed="left")],
        "multiplication_nodes": [Interval(Integral, 0, None, closed="left")],
        "lamb": [Interval(Real, 0, None, closed="left")],
        "lamb_l1": [Interval(Real, 0, None, closed="left")],
        "lamb_entropy": [Interval(Real, 0, None, closed="left")],
        "lamb_smoothness": [Interval(Real, 0, None, closed="left")],
        "optimizer": [StrOptions({"auto", "adam", "lbfgs"})],
        "learning_rate": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "max_iter": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "grid_extension": [None, StrOptions({"auto"}), "array-like"],
        "grid_eps": [Interval(Real, 0, 1, closed="both")],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "dtype": [StrOptions({"auto", "float32", "float64"})],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "categorical_features": [None, "array-like", StrOptions({"from_dtype"})],
        "extrapolation": [StrOptions({"constant", "continue"})],
        "init": [StrOptions({"auto", "linear", "random"})],
        "ensemble_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "interaction_cst": [None, StrOptions({"pairwise", "no_interactions"}), list, tuple, set],
        "monotonic_cst": [None, "array-like", dict],
    }

    # One signature for both estimators: scikit-learn reads the parameter
    # names from ``__init__``, which the subclasses inherit.
    def __init__(
        self,
        hidden_layer_sizes="auto",
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
        max_iter="auto",
        batch_size="auto",
        grid_extension="auto",
        grid_eps=0.02,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        dtype="auto",
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        categorical_features=None,
        extrapolation="constant",
        init="auto",
        ensemble_size="auto",
        interaction_cst=None,
        monotonic_cst=None,
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
        self.categorical_features = categorical_features
        self.extrapolation = extrapolation
        self.init = init
        self.ensemble_size = ensemble_size
        self.interaction_cst = interaction_cst
        self.monotonic_cst = monotonic_cst

    # ------------------------------------------------------------------
    # Hooks for the subclasses
    # ------------------------------------------------------------------
    @abstractmethod
    def _prepare_targets(self, y, sample_weight):
        """Return ``(targets, n_outputs, loss, target_state)`` for training.

        ``targets`` is a numpy array in the form the engine loss expects and
        ``target_state`` a dict of fitted attributes set only if fit succeeds.
        """

    def _class_weighted(self, y, sample_weight, partial=False):
        """Sample weights times class weights (the classifier's ``class_weight``)."""
        return sample_weight

    @abstractmethod
    def _output_prior(self, targets, sample_weight, n_outputs, loss):
        """The best constant network output for ``targets`` (from ``_prepare_targets``), a float64 array.

        A new network starts with this output bias (see ``KANNetwork.start_at_prior``).
        """

    def _split_stratify(self, y):
        """Labels to stratify the validation split by (None: plain split)."""
        return None

    # ------------------------------------------------------------------
    # Fit driver
    # ------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs. NaN marks a missing value (each first-layer edge
            learns a value for it); infinite values are rejected. Columns
            named by ``categorical_features`` may hold strings or any
            category labels.
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
        with fitted_state_guard(self), fit_threads(), overflow_as_divergence(self.dtype):
            return self._fit_unguarded(X, y, sample_weight)

    def _fit_unguarded(self, X, y, sample_weight):
        self._hidden_layer_sizes(n_outputs=1)  # a bad width fails before the data are read
        reuse = self.warm_start and hasattr(self, "network_")
        X, y, categorical = validate_tabular_data(
            self,
            X,
            y,
            reset=not reuse,
            multi_output=self._multi_output_target,
            y_numeric=False,  # each subclass converts its targets (_prepare_targets), with its own message
            ensure_min_samples=2,
        )
        # Class weights multiply the sample weights (rescaled exactly, by a power of two), and the product is
        # normalised once: the same weights, bit for bit, as multiplying them into sample_weight by hand.
        sample_weight = check_sample_weight(sample_weight, X, normalize=False)
        sample_weight = check_sample_weight(self._class_weighted(y, sample_weight), X)
        targets, n_outputs, loss, target_state = self._prepare_targets(y, sample_weight)
        groups, monotone, hidden = self._constrained_widths(X, categorical, n_outputs)

        device = resolve_device(self.device)
        task = "regression" if self._multi_output_target else "classification"
        recipe = resolve_recipe(X.shape[0], X.shape[1], n_outputs, task, self.get_params(deep=False), device=device)
        if reuse and self.ensemble_size == "auto":
            # A warm start continues the fitted networks, however many "auto" would pack now.
            recipe = dataclasses.replace(recipe, ensemble_size=self.network_.ensemble_size)
        dtype = recipe.dtype
        # After the recipe, which validated grid_extension.
        architecture = self._checked_architecture(hidden, reuse, recipe.ensemble_size, groups, monotone)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        generator = torch.Generator().manual_seed(int(seed))
        n_categories = categories_per_input(*categorical, X.shape[1])
        members = recipe.ensemble_size
        shape = (X.shape[1], hidden, n_outputs, generator, dtype, members, device, n_categories, groups, monotone)

        if reuse:
            same_classes = "classes_" not in target_state or np.array_equal(target_state["classes_"], self.classes_)
            if self.network_.n_outputs != n_outputs or not same_classes:
                raise ValueError("warm_start=True needs the same outputs (or classes) as the previous fit.")
            encoding = self._input_encoding
            network = copy.deepcopy(self.network_).to(device=device, dtype=dtype)
        else:
            encoding = InputEncoding.fit(X, sample_weight, categorical[1])
            network = self._new_tabular_network(*shape)
        X_scaled = encoding.standardize(X)

        early_stopping = recipe.early_stopping
        train_rows, validation_rows = self._train_validation_rows(X.shape[0], targets, seed, early_stopping)
        start, guarded = (
            (None, False)
            if reuse
            else resolve_init(
                self.init,
                early_stopping=early_stopping,
                linear_possible=linear_start_possible(network),
                n_validation=validation_rows.size,
            )
        )
        linear = None
        if start == "linear" or guarded:
            rows = train_rows
            linear = fit_linear_start(
                X_scaled[rows], targets[rows], sample_weight[rows], loss, n_outputs, n_categories, seed
            )
            start = "random" if start == "linear" and linear is None else start
        optimizer = recipe.optimizer
        config = TrainingConfig(
            loss=loss,
            optimizer=optimizer,
            learning_rate=recipe.learning_rate,
            max_iter=recipe.max_iter,
            batch_size=min(recipe.batch_size, train_rows.size),
            extra_grid_sizes=() if reuse else recipe.extra_grid_sizes,
            **self._regularization(),
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            learning_rate_decays=recipe.learning_rate_decays,
            plateau_patience=recipe.plateau_patience,
            lbfgs_inner_iter=recipe.lbfgs_inner_iter,
            early_stopping=early_stopping,
            keep_start=start == "linear",
            verbose=self.verbose,
        )
        target_dtype = loss.target_dtype(dtype)
        x_train = _as_tensor(X_scaled[train_rows], device, dtype)
        t_train = _as_tensor(targets[train_rows], device, target_dtype)
        w_train = _as_tensor(sample_weight[train_rows], device, dtype)
        record_missing_inputs(network, x_train)
        linear_start = None if linear is None else [_as_tensor(a, device, dtype) for a in linear.arrays()]
        if start == "linear":
            start_at_linear(network, x_train, w_train, *linear_start)
        elif not reuse:
            prior = self._output_prior(targets[train_rows], sample_weight[train_rows], n_outputs, loss)
            network.start_at_prior(_as_tensor(prior, device, dtype))
        validation = None
        if early_stopping:
            validation = (
                _as_tensor(X_scaled[validation_rows], device, dtype),
                _as_tensor(targets[validation_rows], device, target_dtype),
                _as_tensor(sample_weight[validation_rows], device, dtype),
            )
        training = (x_train, t_train, w_train)
        result = self._run_training(network, training, config, generator, validation)
        linear_loss = result.start_loss if start == "linear" else None
        if guarded and linear is not None:
            # init="auto": a random start that does not validate clearly better than the linear model (by more
            # than one standard error) is replaced by a fit from the linear start, which ends at least as good
            # on validation (see skkan._recipe.resolve_init).
            fallback = self._new_tabular_network(*shape)
            record_missing_inputs(fallback, x_train)
            start_at_linear(fallback, x_train, w_train, *linear_start)
            linear_loss = float(evaluation_loss(fallback, *validation, loss))
            advantage, standard_error = loss_advantage(result.network, fallback, *validation, loss)
            if advantage <= standard_error:
                config = dataclasses.replace(config, keep_start=True)
                result = self._run_training(fallback, training, config, generator, validation)
                start = "linear"

        if early_stopping and loss.name == "quantile" and validation_rows.size >= _MIN_CALIBRATION_ROWS:
            # Quantile models are judged by their coverage: calibrated on the held-out rows (see the function).
            calibrate_quantile_output(result.network, *validation, loss)

        # Only now, with training done, does the estimator change.
        self._store_fitted_network(
            result.network,
            encoding,
            X_scaled,
            sample_weight,
            seed,
            target_state,
            device,
            extend_range=reuse,
        )
        self._architecture = architecture
        previous_iter = getattr(self, "n_iter_", 0) if reuse else 0
        self.n_iter_ = previous_iter + result.n_iter
        self.loss_curve_ = (list(self.loss_curve_) if reuse else []) + result.loss_curve
        self.best_loss_ = min(self.loss_curve_) if self.loss_curve_ else math.inf
        self.early_stopping_ = early_stopping
        if early_stopping:
            self.validation_scores_ = (
                list(getattr(self, "validation_scores_", None) or []) if reuse else []
            ) + result.validation_scores
            # A linear start's score competes (and is all there is when the first epoch diverged).
            self.best_validation_score_ = max([*self.validation_scores_, result.best_validation_score])
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
        if not reuse:
            self.init_ = start
            self.linear_validation_score_ = None if linear_loss is None else -linear_loss
        self.optimizer_ = optimizer
        self._skkan_version = __version__
        self._warn_about_training(result, recipe)
        return self

    def _run_training(self, network, training, config, generator, validation):
        """``train_network`` on ``training`` (x, targets, weights), with the progress bar ``verbose=1`` asks for."""
        # verbose=1 shows a progress bar (skkan._progress) instead of the engine's per-epoch lines.
        reporter = progress_reporter(
            self.verbose,
            name=type(self).__name__,
            n_stages=1 + len(config.extra_grid_sizes),
            max_epochs=config.max_iter,
        )
        if reporter is not None:
            config = dataclasses.replace(config, callback=reporter, verbose=0)
        try:
            return train_network(network, *training, config, generator=generator, validation=validation)
        finally:
            if reporter is not None:
                reporter.close()

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

    def _warn_about_training(self, result, recipe):
        if result.diverged:
            warnings.warn(
                f"Training diverged (the loss or the parameters became NaN or infinite, or the loss exploded) after "
                f"{result.n_iter} iterations; the best parameters seen before were restored. Lower learning_rate or "
                "check the data for extreme values.",
                ConvergenceWarning,
                stacklevel=_user_stacklevel(),
            )
        elif result.interrupted:
            warnings.warn(
                f"Training was interrupted after {result.n_iter} iterations; the estimator keeps the best state "
                "reached so far and can be used or fitted further (warm_start=True).",
                UserWarning,
                stacklevel=_user_stacklevel(),
            )
        elif not result.converged and recipe.warn_at_max_iter:
            warnings.warn(
                f"{self.optimizer_} optimizer: maximum iterations ({recipe.max_iter}) reached and the optimization "
                "hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=_user_stacklevel(),
            )

    def _regularization(self):
        """The TrainingConfig fields that come straight from the regularisation parameters."""
        return {
            "grid_eps": self.grid_eps,
            "lamb": self.lamb,
            "lamb_l1": self.lamb_l1,
            "lamb_entropy": self.lamb_entropy,
            "lamb_smoothness": self.lamb_smoothness,
        }

    def _store_fitted_network(
        self, network, encoding, X_scaled, sample_weight, seed, target_state, device, extend_range
    ):
        """Set the fitted state a training run (fit or partial_fit) produced; called only once it succeeded.

        With ``extend_range`` (warm start, later ``partial_fit`` calls) the
        inputs' training range grows by the new rows instead of being replaced.
        """
        self.network_ = network.to("cpu")
        # Rows of zero weight are not training data (they must not change predictions).
        self._input_encoding = encoding.with_training_range(X_scaled[sample_weight > 0], extend=extend_range)
        self._store_interpretation_sample(X_scaled, sample_weight, seed)
        self._fill_unobserved_values()
        for name, value in target_state.items():
            setattr(self, name, value)
        self.device_ = str(device)
        self.n_params_ = self.network_.n_active_parameters()
        self.ensemble_size_ = self.network_.ensemble_size

    def _fill_unobserved_values(self):
        """Fill the values training could not learn (see _engine/tabular.py)."""
        dtype = next(self.network_.parameters()).dtype
        sample = _as_tensor(self._interpretation_sample, "cpu", dtype)
        fill_unobserved_values(self.network_, sample, _as_tensor(self._interpretation_weights, "cpu", dtype))

    def _store_interpretation_sample(self, X_scaled, sample_weight, seed):
        rows = np.flatnonzero(sample_weight > 0)
        if rows.size > _INTERPRETATION_ROWS:
            rows = np.sort(check_random_state(seed).choice(rows, _INTERPRETATION_ROWS, replace=False))
        self._interpretation_sample = np.asarray(X_scaled[rows], dtype=np.float64)
        self._interpretation_weights = np.asarray(sample_weight[rows], dtype=np.float64)

    @property
    def is_categorical_(self):
        """Boolean mask of the categorical features (fitted), or None when there are none."""
        return self._input_encoding.is_categorical

    @property
    def categories_(self):
        """Sorted categories of each categorical feature (None for a numeric one), or None (fitted)."""
        return self._input_encoding.categories

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
        # Zero rows are a valid request with an empty answer (e.g. an empty batch in a stream).
        X, _ = validate_tabular_data(self, X, reset=False, ensure_min_samples=0)
        return self._network_output(X)

    def _network_inputs(self, X):
        """What the network receives for validated rows ``X``: standardised and, by default, held in range."""
        return self._input_encoding.network_inputs(X, hold_within_range=self.extrapolation == "constant")

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
                X_scaled = self._network_inputs(X[start : start + chunk])
                outputs.append(forward(_as_tensor(X_scaled, device, dtype)).cpu().numpy().astype(np.float64))
        output = np.concatenate(outputs, axis=0) if outputs else np.zeros((0, network.n_outputs))
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
        # Missing values are learned per first-layer edge (skkan._engine.tabular).
        tags.input_tags.allow_nan = True
        return tags


def _shared_signature_plus(*parameters):
    """The signature of ``_BaseKAN.__init__`` with an estimator's own ``parameters`` appended."""
    shared = inspect.signature(_BaseKAN.__init__)
    return shared.replace(parameters=[*shared.parameters.values(), *parameters])
