"""Docstring sections shared by the KAN estimators (one text, two classes)."""

__all__ = ["fill_shared_docs"]

_SHARED_PARAMETERS = """\
    hidden_layer_sizes : tuple of int, default=(8,)
        Width of each hidden KAN layer; ``()`` gives a one-layer (additive)
        KAN. Eight hidden nodes let the network form feature interactions
        while keeping few, readable edges.

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
        ``"lbfgs"``: full-batch L-BFGS with a strong-Wolfe line search, very
        accurate on smooth, noise-free problems (formulas, simulations), where
        it reaches errors orders of magnitude below Adam's. ``"adam"``:
        mini-batch Adam, scales to large data and, stopped early on a
        validation split, generalises best on noisy tabular data. ``"auto"``
        takes Adam whenever early stopping is on, otherwise L-BFGS up to
        5,000 training samples and Adam above.

    learning_rate : float or "auto", default="auto"
        Step size: ``"auto"`` is 1e-2 for Adam and 1.0 for L-BFGS (whose line
        search scales the step).

    max_iter : int, default=200
        Maximum number of iterations per grid stage: epochs for Adam, L-BFGS
        steps (of up to 20 inner iterations each) for L-BFGS. With
        ``grid_extension`` every stage gets ``max_iter`` iterations.

    batch_size : int or "auto", default="auto"
        Mini-batch size for Adam; ``"auto"`` is ``min(256, n_samples)``.
        Ignored by L-BFGS.

    grid_extension : tuple of int or None, default=None
        Grid sizes to refine to after training on ``grid_size``, e.g.
        ``(10, 20)``: coarse-to-fine training as in the KAN paper. Each
        refinement refits the splines on the finer grid by least squares, so
        the learned functions are kept, then trains again.

    grid_eps : float, default=0.02
        Knot placement: 0 puts knots at quantiles of the data each layer sees,
        1 spaces them uniformly; the default is mostly adaptive. Knots are
        re-placed at the start of every grid stage and every 5 iterations
        during its first 50.

    early_stopping : bool or "auto", default="auto"
        Hold out ``validation_fraction`` of the training data (stratified for
        classifiers), stop when its score stops improving and keep the
        parameters with the best validation score. ``"auto"`` turns it on
        when there are at least 100 samples (10 validation samples at the
        default fraction). A KAN has many parameters per edge and fits noise
        readily: on ``load_diabetes`` a fit to convergence scores R² below 0
        where the early-stopped default matches scikit-learn's MLP, which is
        why this is on by default. Turn it off (and choose ``"lbfgs"``) for
        noise-free targets that should be fitted to high precision.

    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping``.

    n_iter_no_change : int, default=10
        Iterations without an improvement of at least ``tol`` (training
        loss, or validation score with early stopping) before a stage
        stops.

    tol : float, default=1e-4
        Minimum improvement that counts: an absolute gain of the validation
        score with early stopping (as in scikit-learn's MLP), otherwise a
        relative decrease of the training loss, so that precise fits of
        noise-free targets are not cut short once the loss is small.

    dtype : {"float32", "float64"}, default="float32"
        Floating point precision of the network. ``"float64"`` is slower
        but reaches much lower errors on noise-free problems.

    device : str, default="auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:N"`` or ``"mps"``. The resolved device is ``device_``.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the validation split. An
        integer makes fits bit-for-bit reproducible on the CPU.

    verbose : int, default=0
        Print the loss (and validation score) at every iteration.

    warm_start : bool, default=False
        Continue training the fitted network (for instance after
        :meth:`prune`) instead of starting anew; grid extension stages are
        not repeated."""

_SHARED_ATTRIBUTES = """\
    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column
        names.

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
        Validation score at each iteration with early stopping: R² for the
        regressor, negative log-loss for the classifier (higher is better).

    best_validation_score_ : float or None
        Best validation score with early stopping.

    device_ : str
        Device the network was trained on.

    optimizer_ : str
        Optimizer actually used (``"adam"`` or ``"lbfgs"``).

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
