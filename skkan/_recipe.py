"""The training recipe: what the ``"auto"`` hyperparameters resolve to for a given data set.

One rule, chosen from the size of the data and the device (the figures behind
each threshold are in ``benchmarks/results/recipes.md``):

* **small data** (at most ``_SMALL_DATA_MAX_SAMPLES`` training rows) with at
  least as many training rows as the network has spline coefficients:
  full-batch L-BFGS, the KAN paper's protocol, with a coarse-to-fine grid
  schedule (``grid_size``, then 2x and 4x) when early stopping guards it and
  the finer grid has fewer spline coefficients than training rows.
  Full-batch and deterministic, so a fit does not depend on row order or on
  how weights are spread over rows. With ``max_iter="auto"`` a stage ends
  after ``n_iter_no_change // 2`` steps (5) without improvement: the
  further steps of a 10-step patience only overfitted (seed 0 at 10,000
  rows: ``cps1988``, ``magic``, ``phoneme`` and ``nyc_weather`` kept their
  test scores and took 55-70% of the time). A step is 20 iterations (the
  KAN paper's), and 10 when early stopping guards the fit: the validation
  loss is then checked twice as often, so the fit stops nearer its best
  point, at a lower cost. 10 against 20 iterations on those four tables,
  seeds 1 and 2 (and seed 0 of the last three, measured before the patience
  change): ``phoneme`` accuracy up 0.3-1.2 points, ``cps1988`` and
  ``nyc_weather`` within 1e-4 R², ``magic`` within 0.05 points on two seeds
  and 0.56 points lower on one; 30-45% less time.
* **small data with more spline coefficients than training rows** (noisy
  tables such as ``load_diabetes``: 704 coefficients, 317 rows): Adam as
  for larger data. Full-batch L-BFGS fits the noise of such data within a
  few steps, faster than a small validation split can catch (5-fold CV R²
  0.28 against 0.46 on diabetes, ``benchmarks/bench_tabular_small.py``),
  while Adam's small steps let early stopping find the point. Without a
  validation split (under 300 rows) L-BFGS stays, with its short budget.
* **larger data**: mini-batch Adam, batches that grow with the square of
  the data (``(n_train / 1024) ** 2``, between 256 and 4096: 256 up to
  16,384 training rows, then ``2**20 / n_train`` steps an epoch, 16 at
  65,536 rows; see :func:`auto_batch_size`), no grid extension, and a
  plateau schedule when ``learning_rate="auto"``: the rate starts at 2e-2
  and is divided by 5 each time the monitored loss (the validation loss
  with early stopping) has not improved for ``n_iter_no_change // 2``
  epochs (a plateau), up to ``_ADAM_LEARNING_RATE_DECAYS`` (2) times; the
  next plateau ends training. Small batches generalise better on real
  tables (three seeds each against the former ``n_train // 16``: MAGIC
  accuracy 0.8775 against 0.8727, letter 0.873 against 0.845, poker hands
  0.710 against 0.626, diamonds test RMSE 0.098 against 0.111,
  ``nyc_weather`` 0.36 against 0.42), while a step's fixed cost (a few
  hundred rows' worth of compute on a CPU) makes them dear on large data:
  the quadratic growth keeps the default classifier on 50,000 x 14 rows at
  the former fit time (``benchmarks/bench_end_to_end.py``). Shorter
  plateaus at the first rate cost accuracy (3 epochs: 0.946 against 0.950
  there): the validation loss of a mini-batch fit is noisy. The budget
  (``max_iter="auto"``: 1000 epochs) is a ceiling meant for this rule to
  end training first; when it does stop a run that was still improving,
  the estimator warns (``ConvergenceWarning``). An explicit
  ``learning_rate`` is kept constant, and training stops after
  ``n_iter_no_change`` epochs without improvement.
* **early stopping** (either recipe) only when the validation split holds at
  least ``_MIN_VALIDATION_SAMPLES`` rows: smaller splits are too noisy to
  judge a stopping point on.
* **dtype**: float64 on the CPU (accurate, and scikit-learn's 1e-7
  comparisons hold), float32 on GPUs (where float64 is many times slower);
  the device policy decides it (:func:`skkan._engine.device.device_dtype`).

This module only decides; the estimators validate parameters and the engine
trains.
"""

import math
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import torch

from ._engine.device import device_dtype

__all__ = [
    "Recipe",
    "auto_hidden_layer_sizes",
    "resolve_ensemble_size",
    "resolve_hidden_layer_sizes",
    "resolve_init",
    "resolve_recipe",
]

# hidden_layer_sizes="auto": one hidden layer of this many nodes, or of this many
# nodes per network output where that is more (many classes).
_AUTO_HIDDEN_WIDTH = 8
_AUTO_HIDDEN_NODES_PER_OUTPUT = 2
# Training rows up to which optimizer="auto" takes full-batch L-BFGS.
_SMALL_DATA_MAX_SAMPLES = 10_000
# early_stopping="auto" needs a validation split of at least this many rows.
_MIN_VALIDATION_SAMPLES = 30
# batch_size="auto" for Adam: (n_train / _BATCH_SCALE_ROWS) ** 2, clipped to these bounds:
# 256 up to 16,384 training rows, 4096 from 65,536 (see auto_batch_size).
_BATCH_SCALE_ROWS = 1024
_MIN_AUTO_BATCH, _MAX_AUTO_BATCH = 256, 4096
_AUTO_LEARNING_RATE = {"adam": 2e-2, "lbfgs": 1.0}
# learning_rate="auto" with Adam: divisions by 5 on plateaus before a plateau ends
# training, and the plateau's length as a share of n_iter_no_change.
_ADAM_LEARNING_RATE_DECAYS = 2
_PLATEAU_PATIENCE_DIVISOR = 2
# L-BFGS iterations per step: the KAN paper's 20, and 10 for max_iter="auto" with early
# stopping (noisy tables, where validation after every 10 iterations stops closer to the
# best point; see the module docstring).
_LBFGS_INNER_ITER, _GUARDED_LBFGS_INNER_ITER = 20, 10
# max_iter="auto": L-BFGS steps per grid stage, as in the KAN paper (a stage also ends after
# n_iter_no_change // _PLATEAU_PATIENCE_DIVISOR steps without improvement), and Adam epochs
# (a ceiling: early stopping ends the run).
_AUTO_MAX_ITER = {"lbfgs": 50, "adam": 1000}
# Without a validation split (under 300 rows) L-BFGS runs a short, fixed budget
# per stage: enough for smooth targets, and it bounds the cost of the many fits
# on tiny data that cross-validation and scikit-learn's checks make.
_UNGUARDED_LBFGS_MAX_ITER = 10
# init="auto": validation splits smaller than this start at the linear model (see resolve_init).
_LINEAR_START_MAX_VALIDATION = 200
# ensemble_size="auto": networks trained at once on noisy tables (see resolve_ensemble_size).
_AUTO_ENSEMBLE_SIZE = 4
# grid_extension="auto" (L-BFGS only): refine to these multiples of grid_size.
_GRID_EXTENSION_FACTORS = (2, 4)


@dataclass(frozen=True)
class Recipe:
    """A fully resolved training recipe (no ``"auto"`` left).

    Attributes
    ----------
    optimizer : {"adam", "lbfgs"}
    learning_rate : float
    batch_size : int
        Mini-batch size for Adam (the training-set size for L-BFGS).
    max_iter : int
        Iterations per grid stage.
    learning_rate_decays : int
        Plateaus on which Adam divides its learning rate by 5 before the
        next one ends training (0: constant learning rate).
    plateau_patience : int or None
        Epochs without improvement that make a plateau of that schedule
        (None without one: ``n_iter_no_change`` ends training).
    early_stopping : bool
    warn_at_max_iter : bool
        False where the budget is itself the regulariser (``max_iter="auto"``
        without a validation split), so reaching it is no convergence failure.
    extra_grid_sizes : tuple of int
        Grid sizes of the stages after the first.
    dtype : torch.dtype
    ensemble_size : int
        KANs packed into the network (see :func:`resolve_ensemble_size`).
    lbfgs_inner_iter : int
        Iterations of one L-BFGS step.
    """

    optimizer: str
    learning_rate: float
    batch_size: int
    max_iter: int
    learning_rate_decays: int
    plateau_patience: int | None
    early_stopping: bool
    warn_at_max_iter: bool
    extra_grid_sizes: tuple
    dtype: torch.dtype
    ensemble_size: int = 1
    lbfgs_inner_iter: int = _LBFGS_INNER_ITER


def validation_size(n_samples, validation_fraction):
    """Rows a validation split of ``validation_fraction`` holds (as ``train_test_split`` rounds)."""
    return math.ceil(validation_fraction * n_samples)


def _early_stopping(n_samples, params):
    if params["early_stopping"] == "auto":
        return validation_size(n_samples, params["validation_fraction"]) >= _MIN_VALIDATION_SAMPLES
    return bool(params["early_stopping"])


def auto_hidden_layer_sizes(n_outputs, groups=None, monotone=False):
    """The hidden layers of ``hidden_layer_sizes="auto"``: one layer of ``max(8, 2 * n_outputs)`` nodes.

    With interaction constraints (``groups``, from ``interaction_cst``),
    every feature group needs hidden nodes of its own, and all groups get
    the same number: enough for that width together, and at least two for a
    group of several features. One node sees its features only through a
    sum, ``psi(phi_1(x_1) + phi_2(x_2))``; two can form a product. On
    ``sin(2 x0) + x1 x2 + x3^2`` with ``"pairwise"`` (6 groups), test R²
    was 0.9976 with one node per group and 0.9997 with two. So
    ``"no_interactions"`` on 20 features gives 20 nodes, one shape function
    per feature, and ``"pairwise"`` on 6 features (15 pairs) 30 nodes.

    Eight nodes let the network form feature interactions while keeping few,
    readable edges, and serve regression, binary and up to 4-class problems.
    A hidden layer narrower than the output layer is a bottleneck every
    output shares: the 26 letters of ``letter`` (three seeds,
    ``benchmarks/results/recipes.md``) reached 0.873 test accuracy through 8
    nodes, 0.943 through 26 and 0.956 through 52 (scikit-learn's MLP:
    0.951), at 7, 7 and 14 s a fit. Four nodes per output gained less than
    they cost: letter 0.963 in 20 s, and 12 nodes for the 3 classes of the
    50,000-row table of ``benchmarks/bench_end_to_end.py`` added 1.2 points
    at 1.8 times the fit time, beyond the fit-time target.
    """
    width = max(_AUTO_HIDDEN_WIDTH, _AUTO_HIDDEN_NODES_PER_OUTPUT * int(n_outputs))
    if groups is None:
        return (width,)
    # Monotone constraints split every group's nodes into monotone and free ones: two at least.
    smallest = 2 if monotone or any(len(group) > 1 for group in groups) else 1
    return (len(groups) * max(smallest, -(-width // len(groups))),)


def resolve_hidden_layer_sizes(hidden_layer_sizes, n_outputs, groups=None, monotone=False):
    """The ``hidden_layer_sizes`` parameter as a list of widths (not yet validated).

    ``"auto"`` is resolved for ``n_outputs`` network outputs (see
    :func:`auto_hidden_layer_sizes`) and a single integer is one layer.
    """
    if isinstance(hidden_layer_sizes, str) and hidden_layer_sizes == "auto":
        hidden_layer_sizes = auto_hidden_layer_sizes(n_outputs, groups, monotone)
    return [hidden_layer_sizes] if isinstance(hidden_layer_sizes, Integral) else list(hidden_layer_sizes)


def _n_edges(n_features, n_outputs, hidden_layer_sizes):
    sizes = resolve_hidden_layer_sizes(hidden_layer_sizes, n_outputs)
    widths = [n_features, *[int(size) for size in sizes], n_outputs]
    return sum(a * b for a, b in zip(widths[:-1], widths[1:]))


def _n_coefficients(params, n_edges, grid_size):
    return n_edges * (grid_size + params["spline_order"])


def _auto_optimizer(params, n_train, n_edges, early_stopping):
    if n_train > _SMALL_DATA_MAX_SAMPLES:
        return "adam"
    if early_stopping and _n_coefficients(params, n_edges, params["grid_size"]) > n_train:
        return "adam"
    return "lbfgs"


def _auto_extra_grid_sizes(params, n_train, n_edges):
    # Finer grids only where a validation split guards them, and only while
    # the network has fewer spline coefficients than training rows: beyond
    # that they fit the noise of small tabular data (diabetes: test R² below
    # 0 with grids 5, 10, 20).
    sizes = [factor * params["grid_size"] for factor in _GRID_EXTENSION_FACTORS]
    return tuple(size for size in sizes if _n_coefficients(params, n_edges, size) <= n_train)


def _extra_grid_sizes(grid_extension, grid_size):
    if grid_extension is None:
        return ()
    sizes = np.asarray(grid_extension).ravel().tolist()
    previous = grid_size
    for size in sizes:
        if not isinstance(size, Integral) or isinstance(size, bool) or size <= previous:
            raise ValueError(
                "grid_extension must be increasing integer grid sizes larger than grid_size="
                f"{grid_size}, got {grid_extension!r}."
            )
        previous = size
    return tuple(int(s) for s in sizes)


def auto_batch_size(n_train):
    """Adam's mini-batch size for ``batch_size="auto"``: ``(n_train / 1024) ** 2`` within [256, 4096].

    Small batches generalise better (more, noisier steps), and each step has
    a fixed cost (a few hundred rows' worth of compute on a CPU), so the
    batch stays at 256 while epochs are cheap, then grows with the square of
    the data: an epoch takes ``2**20 / n_train`` steps (64 at 16,384 rows, 16
    at 65,536), and the fixed cost of those steps falls as the work on rows
    grows. From 65,536 rows batches stay at 4096.
    """
    return int(min(_MAX_AUTO_BATCH, max(_MIN_AUTO_BATCH, n_train * n_train // _BATCH_SCALE_ROWS**2)))


def resolve_init(init, *, early_stopping, linear_possible, n_validation=0):
    """The starting state of a new network, and whether a linear fallback guards it.

    Returns ``(start, guarded)``: ``start`` is ``"linear"`` (the linear
    model, see :mod:`skkan._linear_reference`) or ``"random"``; ``guarded``
    means that a fit from the random start is kept only if it validates
    better than the linear model by more than one standard error of the
    paired per-row loss differences
    (:func:`skkan._engine.losses.loss_advantage`); otherwise it is replaced
    by a fit from the linear start, which ends at least as good on
    validation (its start competes for the best state).

    ``"auto"``, when a validation split judges the fit and the network can
    represent a linear model (a hidden layer at least as wide as the
    outputs, no product nodes): the linear start while the split holds
    fewer than ``_LINEAR_START_MAX_VALIDATION`` (200) rows, a guarded random
    start from there on. Otherwise an unguarded random start (noise-free
    targets fitted without a split keep the KAN paper's start, and so do the
    small data sets of scikit-learn's checks).

    A validation loss is noisy, so the guard asks for a margin of one
    standard error rather than any improvement, and below 200 rows, where
    even that margin is noise, the fit starts at the linear model. Five
    splits each, default ensembles: ``load_diabetes`` (34 validation rows)
    R² 0.393 when any improvement kept the random start, 0.418 with the
    margin, 0.430 from the linear start (ridge 0.428);
    ``load_breast_cancer`` (43 rows) 0.957, 0.971 and 0.972. Where the
    nonlinearity is real the margin is met easily and the KAN paper's start
    stays.

    Raises
    ------
    ValueError
        If ``init="linear"`` is asked for a network that cannot start there.
    """
    if init == "auto":
        if not (early_stopping and linear_possible):
            return "random", False
        return ("linear", False) if n_validation < _LINEAR_START_MAX_VALIDATION else ("random", True)
    if init == "linear" and not linear_possible:
        raise ValueError(
            "init='linear' needs a hidden layer at least as wide as the outputs and no multiplication_nodes; "
            "use init='random'."
        )
    return init, False


def resolve_ensemble_size(params, early_stopping):
    """KANs trained at once for ``ensemble_size``: ``"auto"`` is 4 for noisy tables, else 1.

    ``"auto"`` packs ``_AUTO_ENSEMBLE_SIZE`` (4) networks when a validation
    split guards the fit (noisy tabular data), and one network when there
    is none (noise-free formulas, small data), when ``lamb > 0`` (sparsity
    training aims at pruning and formulas, which need one network) or with
    ``multiplication_nodes`` (which ensembles do not take). Four members,
    three seeds of the benchmark's tables at 10,000 rows against one
    network: ``phoneme`` 0.884 against 0.873, ``magic`` 0.870 against
    0.862, ``penbased`` 0.995 against 0.989, ``hotel_rates`` R² 0.943
    against 0.937, ``cps1988`` 0.473 against 0.469; ``diamonds`` 0.9899
    against 0.9908. A fit costs about 1.5 times as much, since four
    members have more spline coefficients than such tables have rows,
    which sends the recipe to Adam (see the module docstring).
    """
    ensemble_size = params["ensemble_size"]
    if ensemble_size != "auto":
        return int(ensemble_size)
    interpretable = params["lamb"] > 0 or params["multiplication_nodes"] > 0
    return _AUTO_ENSEMBLE_SIZE if early_stopping and not interpretable else 1


def resolve_recipe(n_samples, n_features, n_outputs, task, params, *, device):
    """Resolve the ``"auto"`` hyperparameters for one fit.

    Parameters
    ----------
    n_samples : int
        Rows of the training data (before any validation split).
    n_features : int
        Input features (with ``n_outputs`` and ``hidden_layer_sizes``, they
        give the number of edges; their spline coefficients, against the
        training rows, pick the optimizer and bound the grid extension).
    n_outputs : int
        Network outputs.
    task : {"regression", "classification"}
    params : dict
        The estimator's parameters (``get_params()``).
    device : torch.device
        The resolved training device.

    Returns
    -------
    Recipe

    Raises
    ------
    ValueError
        If ``grid_extension`` is not an increasing sequence above ``grid_size``.
    """
    early_stopping = _early_stopping(n_samples, params)
    n_train = n_samples - validation_size(n_samples, params["validation_fraction"]) if early_stopping else n_samples
    ensemble_size = resolve_ensemble_size(params, early_stopping)
    # An ensemble's members each have the edges of one network.
    n_edges = ensemble_size * _n_edges(n_features, n_outputs, params["hidden_layer_sizes"])
    optimizer = params["optimizer"]
    if optimizer == "auto":
        optimizer = _auto_optimizer(params, n_train, n_edges, early_stopping)
    learning_rate = params["learning_rate"]
    scheduled = optimizer == "adam" and learning_rate == "auto"
    # The recipe's L-BFGS budget counts steps of 10 or 20 iterations: a plateau of
    # n_iter_no_change // 2 of them is long enough (see the module docstring).
    lbfgs_budget = optimizer == "lbfgs" and params["max_iter"] == "auto"
    learning_rate = _AUTO_LEARNING_RATE[optimizer] if learning_rate == "auto" else float(learning_rate)
    batch_size = params["batch_size"]
    if batch_size == "auto":
        batch_size = auto_batch_size(n_train) if optimizer == "adam" else n_train
    batch_size = int(batch_size)
    unguarded_lbfgs = optimizer == "lbfgs" and not early_stopping
    max_iter = params["max_iter"]
    if max_iter == "auto":
        max_iter = _UNGUARDED_LBFGS_MAX_ITER if unguarded_lbfgs else _AUTO_MAX_ITER[optimizer]
    dtype = device_dtype(params["dtype"], device)
    if isinstance(params["grid_extension"], str) and params["grid_extension"] == "auto":
        refine = optimizer == "lbfgs" and early_stopping
        extra_grid_sizes = _auto_extra_grid_sizes(params, n_train, n_edges) if refine else ()
    else:
        extra_grid_sizes = _extra_grid_sizes(params["grid_extension"], params["grid_size"])
    return Recipe(
        optimizer=optimizer,
        learning_rate=learning_rate,
        batch_size=min(batch_size, n_train),
        max_iter=int(max_iter),
        learning_rate_decays=_ADAM_LEARNING_RATE_DECAYS if scheduled else 0,
        plateau_patience=max(1, params["n_iter_no_change"] // _PLATEAU_PATIENCE_DIVISOR)
        if scheduled or lbfgs_budget
        else None,
        early_stopping=early_stopping,
        warn_at_max_iter=not (unguarded_lbfgs and params["max_iter"] == "auto"),
        extra_grid_sizes=extra_grid_sizes,
        dtype=dtype,
        ensemble_size=ensemble_size,
        lbfgs_inner_iter=_GUARDED_LBFGS_INNER_ITER if lbfgs_budget and early_stopping else _LBFGS_INNER_ITER,
    )
