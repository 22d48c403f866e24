"""Docstring sections shared by the KAN estimators (one text, two classes)."""

__all__ = ["fill_shared_docs"]

_SHARED_PARAMETERS = """\
    hidden_layer_sizes : tuple of int or "auto", default="auto"
        Width of each hidden KAN layer; ``()`` gives a one-layer (additive)
        KAN. ``"auto"`` is one hidden layer of ``max(8, 2 * n_outputs)``
        nodes (``n_outputs``: the regression targets, or the classes when
        there are more than two): eight nodes let the network form feature
        interactions while keeping few, readable edges, and a layer
        narrower than the outputs would be a bottleneck they all share (26
        letters of ``letter``: test accuracy 0.873 through 8 nodes, 0.956
        through 52). With ``interaction_cst``, every feature group gets the
        same number of nodes, at least one each (two for a group of several
        features). The resolved widths are in ``fitted_view_.widths``.

    grid_size : int, default=5
        Number of grid intervals of every edge spline (before any grid
        extension). Five intervals is the KAN paper's starting point: coarse
        enough not to overfit noisy tabular data.

    spline_order : int, default=3
        Order of the B-splines (3: cubic, smooth edge functions).

    multiplication_nodes : int, default=0
        Number of product nodes added to every hidden layer, after its
        ``hidden_layer_sizes[l]`` sum nodes (KAN 2.0's multiplication nodes).
        A product node multiplies two sums of edge functions, so products
        such as ``x0 * x1`` are represented exactly in one layer and come
        back exactly in :meth:`symbolic_formula`. None by default: most
        tabular data needs no exact products. Needs a hidden layer.

    lamb : float, default=0.0
        Overall strength of the sparsity regulariser (the KAN paper's
        lambda). Use a positive value (e.g. 1e-3 to 1e-2) before pruning.

    lamb_l1 : float, default=1.0
        Weight of the L1 term (mean absolute edge activations) inside the
        sparsity regulariser.

    lamb_entropy : float, default=2.0
        Weight of the entropy term inside the sparsity regulariser; it
        concentrates each node's mass on few edges.

    lamb_smoothness : float, default=0.0
        Penalty on the second differences of the spline coefficients
        (smoother edge functions). Independent of ``lamb``.

    optimizer : {"auto", "adam", "lbfgs"}, default="auto"
        ``"lbfgs"``: full-batch L-BFGS with a strong-Wolfe line search, the
        KAN paper's optimizer, very accurate on smooth targets. ``"adam"``:
        mini-batch Adam, which scales to large data. ``"auto"`` takes L-BFGS
        up to 10,000 training rows (after the validation split) and Adam
        above; see :ref:`the recipe <recipe>` in the user guide.

    learning_rate : float or "auto", default="auto"
        Step size: ``"auto"`` is 1.0 for L-BFGS (whose line search scales the
        step) and, for Adam, a plateau schedule: 2e-2, divided by 5 each time
        the validation loss (the training loss without early stopping) has not
        improved by a relative ``tol`` for ``n_iter_no_change // 2`` epochs,
        up to 2 times; the next such plateau ends training. A number is kept
        constant.

    max_iter : int or "auto", default="auto"
        Maximum number of iterations per grid stage: epochs for Adam, L-BFGS
        steps (of up to 20 inner iterations each) for L-BFGS. ``"auto"``:
        50 L-BFGS steps per stage (the KAN paper's budget; a stage ends
        after ``n_iter_no_change // 2`` steps without improvement, and with
        a validation split a step is 10 inner iterations), or 10 when there
        is no validation split (fewer than 300 rows: a short, cheap budget);
        1,000 epochs for Adam, a ceiling that early stopping ends first.

    batch_size : int or "auto", default="auto"
        Mini-batch size for Adam; ``"auto"`` is ``(n_train / 1024) ** 2``
        clipped to [256, 4096] (and to ``n_train``): 256 up to 16,384
        training rows, where small batches generalise best and epochs are
        cheap, then growing with the square of the data so that large data
        sets take fewer, cheaper steps an epoch (16 at 65,536 rows).
        Ignored by L-BFGS, which is full-batch.

    grid_extension : tuple of int, "auto" or None, default="auto"
        Grid sizes to refine to after training on ``grid_size``, e.g.
        ``(10, 20)``: coarse-to-fine training as in the KAN paper. Each
        refinement refits the splines on the finer grid by least squares, so
        the learned functions are kept, then trains again. ``"auto"`` is
        ``(2 * grid_size, 4 * grid_size)`` with L-BFGS and early stopping
        (the validation split guards the finer grids against noise), and no
        extension otherwise. None: no extension.

    grid_eps : float, default=0.02
        Knot placement: 0 puts knots at quantiles of the data each layer sees,
        1 spaces them uniformly; the default is mostly adaptive. Knots are
        re-placed at the start of every grid stage and every 5 iterations
        during its first 50.

    early_stopping : bool or "auto", default="auto"
        Hold out ``validation_fraction`` of the training data (stratified for
        classifiers), stop when the loss on it (the training loss, weighted
        by ``sample_weight``) has not decreased by a relative ``tol`` for
        ``n_iter_no_change`` iterations, and keep the parameters with the
        lowest validation loss. ``"auto"`` turns it on when the validation
        split holds at least 30 rows (300 samples at the default fraction):
        smaller splits are too noisy to judge. A KAN has many parameters per
        edge and fits noise readily: on ``load_diabetes`` full-batch L-BFGS
        to convergence scores R² below 0, so keep it on for noisy data; turn
        it off for noise-free targets that should be fitted to high
        precision.

    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping``.

    n_iter_no_change : int, default=10
        Iterations without an improvement of at least ``tol`` (training
        loss, or validation loss with early stopping) before a stage
        stops; half as many with the recipe's schedules (L-BFGS with
        ``max_iter="auto"``, Adam with ``learning_rate="auto"``).

    tol : float, default=1e-4
        Minimum improvement that counts: a relative decrease of the
        validation loss with early stopping, otherwise of the training loss,
        so that precise fits of noise-free targets are not cut short once
        the loss is small. A log loss (classifiers) is measured relative to
        at least 0.01 nats, so that fits of separable classes end once the
        classes are separated.

    dtype : {"auto", "float32", "float64"}, default="auto"
        Floating point precision of the network. ``"auto"``: float64 on the
        CPU, float32 on GPUs. float64 reaches much lower errors on noise-free
        problems and makes fits on repeated rows and on integer sample
        weights agree to scikit-learn's 1e-7 tolerances; on the CPU a training
        step costs 1.3-1.5x the CPU time of float32 at 3,000-10,000 rows and
        about the same on a few hundred rows (on GPUs float64 is many times
        slower).

    device : str, default="auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:N"`` or ``"mps"``. The resolved device is ``device_``.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the validation split. An
        integer makes fits bit-for-bit reproducible on the CPU with the same
        number of torch threads; across thread counts predictions differ
        slightly (see the user guide's section on reproducibility).

    verbose : int, default=0
        0 fits silently. 1 shows progress on standard error: a tqdm bar
        (epochs, grid stage, loss, validation loss, time left) in a terminal
        with the ``progress`` extra installed, else a plain line every few
        seconds. 2 prints a line every epoch.

    warm_start : bool, default=False
        Continue training the fitted network (for instance after
        :meth:`prune`) instead of starting anew; grid extension stages are
        not repeated. The architecture (``hidden_layer_sizes``,
        ``grid_size``, ``grid_extension``, ``spline_order``), the number of
        features and the outputs (classes) must stay as fitted, or ``fit``
        raises a ValueError naming what changed; training parameters
        (``learning_rate``, ``max_iter``, ``optimizer``, ``batch_size``, the
        ``lamb*`` penalties, ``tol``, early stopping, ``dtype``, ``device``,
        ``random_state``) may change.

    categorical_features : array-like of int, str or bool, "from_dtype" or None, default=None
        Inputs to treat as categories: column indices, column names (with a
        DataFrame), a boolean mask, or ``"from_dtype"`` for the columns of a
        DataFrame whose dtype is ``category``, ``object`` or ``string``. A
        categorical input gets, instead of a spline, one learned value per
        category on each of its first-layer edges; a category unseen in
        ``fit`` gets the edge's mean value over the training data. Strings
        and numbers both work as categories (at most 1024 per feature). NaN
        or None in a categorical column is a *missing value*, like NaN in a
        numeric column. None: every input is numeric.

    extrapolation : {"constant", "continue"}, default="constant"
        What predictions do for inputs beyond the range seen in ``fit``.
        ``"constant"``: each numeric input is held at the nearest edge of
        its training range, so predictions stay constant beyond the data,
        as a tree ensemble's and EBM's do. One faulty value (a wind speed of
        1,048 mph among speeds below 45) can otherwise send a prediction
        hundreds of units away: ``nyc_weather`` in the benchmark, test R²
        0.60-0.95 over three seeds with ``"continue"``. ``"continue"``: the
        edge functions are evaluated as they are (each spline is held
        constant beyond its grid, the SiLU residual and snapped symbolic
        functions continue), which is what extrapolating a fitted formula
        needs. Read at prediction time, so it can be changed on a fitted
        model with ``set_params``; categorical inputs and missing values
        are not affected.

    init : {"auto", "linear", "random"}, default="auto"
        Where training starts. ``"linear"``: at the linear model of the
        inputs, fitted first on the training rows (a ridge regression with
        scikit-learn's default penalty for the regressor, a logistic
        regression for the classifier; standardised inputs, indicators for
        missing values and categories). The network computes it exactly
        (B-splines reproduce straight lines; the other hidden nodes start
        with silent outgoing edges), and with early stopping that starting
        state competes for the best validated state, so the fit never ends
        validating below the linear model (``linear_validation_score_``
        against ``best_validation_score_``); training then learns what the
        linear model misses. ``"random"``: random edges, as in the KAN
        paper. ``"auto"``, when early stopping is on and the network has a
        hidden layer at least as wide as its outputs and no
        ``multiplication_nodes``: the linear start while the validation
        split holds fewer than 200 rows (there, comparing validation losses
        is noise, and random starts that validated better tested worse:
        ``load_diabetes`` R² 0.39 against 0.43), and from 200 rows on
        random edges guarded by the linear model: unless that fit validates
        better than the linear model by more than one standard error of
        the per-row loss differences, it is replaced by a fit from the
        linear start (``init_`` then says ``"linear"``). Either way a
        default KAN never ends below the linear model on its validation
        data. Without a
        validation split (noise-free formulas, fewer than 300 rows) the
        start is random and unguarded. Ignored by a warm start.

    ensemble_size : int or "auto", default="auto"
        Number of KANs trained at once as one packed network, TabM's idea:
        each member has its own hidden nodes and edges (the layers after
        the first connect only nodes of the same member), each is trained
        on its own loss, and predictions are the mean of the members'
        outputs (of their logits for a classifier). The members differ by
        their random start. A fit costs about ``ensemble_size`` times as
        much. Importances, plots and ``predict*`` work on an ensemble (the
        plots draw every member's edges); pruning and symbolic formulas need
        a single network and raise a ValueError naming ``ensemble_size``.
        ``multiplication_nodes`` cannot be combined with it. ``"auto"`` is
        4 when the fit has a validation split, and 1 without one, with
        ``lamb > 0`` or with ``multiplication_nodes`` (the fitted count is
        ``ensemble_size_``).

    interaction_cst : {"pairwise", "no_interactions"} or list of groups, default=None
        Interaction constraints, in HistGradientBoosting's format: a list
        of feature groups (lists, tuples or sets of feature indices, or of
        column names when ``X`` is a DataFrame), ``"pairwise"`` (every pair
        of features a group) or ``"no_interactions"`` (every feature alone:
        an additive KAN). Features in no group form one more group; groups
        may overlap. Every hidden node belongs to one group and sees only
        its features, and the output sums the groups, so features that
        share no group never interact, anywhere (a structural guarantee,
        not a penalty). With ``hidden_layer_sizes="auto"`` every group gets
        the same number of hidden nodes (at least two for a group of
        several features); explicit widths need at least one node per
        group. None (the default): every feature may interact with every
        other.

    monotonic_cst : array-like of int of shape (n_features,) or dict, default=None
        Monotonic constraints, in HistGradientBoosting's format: per
        feature, 1 (the prediction never decreases as the feature grows),
        -1 (never increases) or 0 (no constraint); or a dict from column
        names to those values, other features unconstrained. For a
        classifier, binary targets only: the constraint applies to the
        logit (and probability) of ``classes_[1]``. The guarantee holds by
        construction, for every row and every value, also far outside the
        training range: constrained features feed only *monotone* hidden
        nodes through monotone edges (spline coefficients kept in order,
        no SiLU residual), and every edge out of a monotone node is
        non-decreasing. Half of each layer's nodes stay *free* for the
        other features. Training keeps every state in that set (a
        projection after each step), constrained edges are never snapped
        to formulas, and a saved model that breaks its constraints is
        refused at load time. Not with ``multiplication_nodes`` or
        categorical features."""

_SHARED_ATTRIBUTES = """\
    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column
        names.

    is_categorical_ : ndarray of shape (`n_features_in_`,) of bool or None
        Which inputs are categorical; None when none is.

    categories_ : list of (ndarray or None) or None
        Per input, the sorted categories of a categorical input (their
        positions are the codes the network sees), None for a numeric one;
        None when no input is categorical.

    network_ : skkan._engine.KANNetwork
        The trained torch network (kept on the CPU; moved to ``device_`` for
        each prediction).

    n_params_ : int
        Number of trainable parameters of the edges that are not pruned.

    n_iter_ : int
        Number of iterations run, over all grid stages.

    loss_curve_ : list of float
        Training loss (including regularisation) at each iteration.

    best_loss_ : float or None
        Lowest training loss, or None with early stopping.

    validation_scores_ : list of float or None
        Score on the validation split at each iteration with early
        stopping: the negative validation loss (squared error of the
        standardised targets for the regressor, log-loss for the
        classifier), weighted by ``sample_weight``; higher is better, as in
        scikit-learn's MLP. A loss rather than R² or accuracy, because it is
        defined and smooth on small or constant validation sets.

    best_validation_score_ : float or None
        Best validation score with early stopping (the negative of the
        lowest validation loss reached, the starting linear model's
        included, see ``init``).

    device_ : str
        Device the network was trained on.

    ensemble_size_ : int
        Number of KANs the fitted network packs (``ensemble_size``
        resolved); predictions are their mean.

    init_ : str
        Where training started, ``"linear"`` or ``"random"`` (``init``
        resolved).

    linear_validation_score_ : float or None
        The validation score of the linear model (the negative validation
        loss, as ``validation_scores_``) when one was fitted (``init`` of
        ``"linear"``, or a guarded ``"auto"``); ``best_validation_score_``
        is at least this. None otherwise.

    optimizer_ : str
        Optimizer actually used (``"adam"`` or ``"lbfgs"``; ``"auto"``
        resolved).

    early_stopping_ : bool
        Whether early stopping was used (``early_stopping="auto"`` resolved).

    feature_importances_ : ndarray of shape (`n_features_in_`,)
        Share of the outputs' variation that flows through each input
        feature (sums to one; see :meth:`edge_importances` for the
        definition). Computed from the spreads of the learned edge functions
        on a sample of the training inputs, so it works with
        :class:`~sklearn.feature_selection.SelectFromModel`; a pruned feature
        scores exactly zero.

    pruning_summary_ : dict
        Set by :meth:`prune`: edges removed, parameters before and after,
        and the relative change of the network outputs it caused.

    symbolic_edges_ : list of tuple
        Set by :meth:`auto_symbolic` and :meth:`fix_symbolic`: the snapped
        edges as ``(layer, i, j, function name, R²)``."""


def fill_shared_docs(cls):
    """Class decorator: substitute the shared docstring sections."""
    cls.__doc__ = cls.__doc__.replace("{shared_parameters}", _SHARED_PARAMETERS.strip("\n")[4:]).replace(
        "{shared_attributes}", _SHARED_ATTRIBUTES.strip("\n")[4:]
    )
    return cls
