"""Symbolic regression on a fitted KAN: rank closed-form candidates for edges and snap them.

The formulas read from the snapped network are in :mod:`._formula_outputs`.

Every function takes a fitted estimator and reads it through its public
:class:`~skkan.FittedKAN` view (``estimator.fitted_view_``).
"""

import copy
import math
import time
from numbers import Real

import numpy as np
import torch
from sklearn.utils import check_random_state

from .._engine.losses import Loss, prediction_loss
from .._engine.symbolic import canonicalize_network, rank_symbolic, snap_edge
from .._engine.symbolic_library import SYMBOLIC_FUNCTIONS
from .._engine.symbolic_tuning import fine_tune, past_deadline, polish_symbolic
from ._common import replace_network, single_network_view

__all__ = ["auto_symbolic", "fix_symbolic", "rank_edge", "suggest_symbolic"]

# Rows used to rank candidate functions on one edge (the grid search is
# quadratic in its resolution, linear in rows).
_RANK_ROWS = 512


def rank_edge(network, inputs, weights, layer, i, j, library, simplicity_weight, values=None):
    """Rank candidates for edge ``(layer, i, j)`` on ``inputs``; ``values`` default to the edge's own."""
    if values is None:
        with torch.no_grad():
            values = network.layers[layer].edge_activations(inputs[layer])[:, i, j]
    x = inputs[layer][:, i]
    observed = ~torch.isnan(x)  # a missing input keeps its learned value (skkan._engine.tabular)
    x, values, weights = x[observed], values[observed], weights[observed]
    if x.shape[0] > _RANK_ROWS:
        rows = torch.as_tensor(np.sort(check_random_state(0).choice(x.shape[0], _RANK_ROWS, replace=False)))
        x, values, weights = x[rows], values[rows], weights[rows]
    return rank_symbolic(x, values, weights, library=library, simplicity_weight=simplicity_weight)


def _check_snappable(view, layer, i, j):
    """Raise a ValueError unless ``(layer, i, j)`` is an edge that computes a function of its input."""
    view.check_edge(layer, i, j)
    if not view.allowed_edges(layer)[i, j]:
        raise ValueError(
            f"Edge ({layer}, {i}, {j}) does not exist: interaction_cst keeps node {i} and subnode {j} apart, and a "
            "snapped function there would let features of different groups meet."
        )
    if view.monotone_edges(layer)[i, j]:
        raise ValueError(
            f"Edge ({layer}, {i}, {j}) carries a monotonic_cst constraint: it stays a monotone spline, since a "
            "snapped function is not monotone everywhere."
        )
    if layer == 0 and view.is_categorical[i]:
        raise ValueError(
            f"Edge (0, {i}, {j}) belongs to the categorical feature {view.feature_names[i]!r}: a lookup table, "
            "exact as it is, which formulas show as a Piecewise over its categories; it has no function to snap."
        )


def suggest_symbolic(estimator, layer, i, j, library=None, *, top_k=5, simplicity_weight=0.2):
    """Rank closed-form candidates for one edge function.

    Every candidate ``f`` is fitted as ``c * f(a * x + b) + d`` to the
    edge's values on the training sample (grid search of ``a, b``, least
    squares for ``c, d``, then joint polishing) and scored by R².

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
        A fitted estimator.
    layer, i, j : int
        The edge from node ``i`` of layer ``layer`` to node ``j`` of the
        next layer. In layer 0 the edge's input is the standardised
        feature ``i``; the edges of a categorical feature are lookup tables,
        not functions, and raise a ValueError.
    library : list of str, optional
        Candidate names, default all of ``x, x^2, x^3, x^4, 1/x, sqrt,
        exp, log, sin, cos, tanh, abs, gaussian, arctan, arctanh,
        arcsin``.
    top_k : int, default=5
        Number of candidates returned.
    simplicity_weight : float, default=0.2
        Candidates whose unexplained variance ``1 - R²`` is within a
        factor 10 of the best count as tied; the score is
        ``max(log10(1 - R²), best + 1) + simplicity_weight *
        complexity`` (lower is better), so the simplest of near-tied
        functions wins (on a short range ``cos`` can mimic ``x^2``).

    Returns
    -------
    candidates : list of SymbolicFit
        Best first; each has ``name``, ``r2`` and the numbers ``a, b, c,
        d``.
    """
    view = single_network_view(estimator, "suggest_symbolic")
    _check_snappable(view, layer, i, j)
    inputs, weights = view.layer_inputs()
    return rank_edge(view.network, inputs, weights, layer, i, j, library, simplicity_weight)[:top_k]


def _tuning_data(view, network, X, y):
    """Inputs, targets and loss used to fine-tune after snapping edges."""
    dtype = next(network.parameters()).dtype
    if X is None:
        # Distillation: match the outputs of the network before snapping.
        x, weights = view.sample_tensors(network)
        with torch.no_grad():
            target = network(x)
        return x, target, weights, Loss("squared_error")
    x = torch.as_tensor(view.standardize(X), dtype=dtype)
    target, loss = view.encode_targets(y, x.shape[0])
    weights = torch.ones(x.shape[0], dtype=dtype)
    return x, torch.as_tensor(target, dtype=loss.target_dtype(dtype)), weights, loss


def _near_ties(fits, max_alternatives=2):
    """Names of the runners-up of a ranking whose unexplained variance is within a factor 10 of the best fit's.

    On a spline's values these cannot be told apart from the winner (a
    cosine with a small frequency mimics a gaussian to the spline's
    precision); once the network is symbolic, the data can.
    """
    floor = min(max(1.0 - fit.r2, 1e-12) for fit in fits)
    return [fit.name for fit in fits[1:] if 1.0 - fit.r2 <= 10.0 * floor][:max_alternatives]


def _revise_edges(network, x, target, weights, library, loss_value, max_iter, snapped, alternatives, deadline):
    """Try other functions on the snapped edges of a polished network; keep those the data prefer.

    Once the whole network is symbolic and polished, the data decide
    between candidates that the splines could not separate. Each edge, in
    turn, is re-snapped and the network re-polished, with

    - its near-tied runners-up from the snapping ranking (``alternatives``),
      kept when the loss falls at least tenfold: a fit better by an order
      of magnitude beats a simpler one;
    - at most two simpler candidates (lower complexity, best fit to the
      edge's current values first), kept when the loss does not grow by
      more than half: a candidate chosen on a spline can mimic a simpler
      one (``sqrt(u + 100)`` is nearly linear) and win by the spline's
      small errors.

    Simpler candidates go first, over all edges (a factor's runner-up can
    only win once the other edges are right), then the runners-up, then
    simpler candidates again. Nothing is tried once the loss is at
    rounding error, nor after ``deadline`` (a :func:`time.perf_counter`
    value or None). Changes ``network`` and ``snapped``; returns the final
    loss.
    """
    for runners_up in (False, True, False):
        ties = alternatives if runners_up else None
        loss_value = _revise_pass(network, x, target, weights, library, loss_value, max_iter, snapped, ties, deadline)
    return loss_value


def _revise_pass(network, x, target, weights, library, loss_value, max_iter, snapped, alternatives, deadline):
    """One pass of :func:`_revise_edges`: the runners-up in ``alternatives``, or simpler candidates if None."""
    names = list(SYMBOLIC_FUNCTIONS) if library is None else list(library)
    exact = 1e-20 * max(float(target.square().mean()), 1e-300)
    for index, layer in enumerate(network.layers):
        if layer.symbolic is None:
            continue
        for i, j in (layer.symbolic.mask != 0).nonzero().tolist():
            if loss_value <= exact or past_deadline(deadline):
                return loss_value
            name = layer.symbolic.names[i][j]
            # Candidates start from their fit to the edge's current (polished) values.
            inputs = network.layer_inputs(x)
            if alternatives is None:
                complexity = SYMBOLIC_FUNCTIONS[name].complexity
                simpler = [other for other in names if SYMBOLIC_FUNCTIONS[other].complexity < complexity]
                tolerance, steps = 1.5, max_iter
                fits = rank_edge(network, inputs, weights, index, i, j, simpler, 0.0)[:2] if simpler else []
            else:
                ties = [other for other in alternatives.get((index, i, j), []) if other in names and other != name]
                # A runner-up starts from numbers fitted to another function,
                # and its valley to the exact fit can be long: more steps.
                tolerance, steps = 0.1, 4 * max_iter
                fits = rank_edge(network, inputs, weights, index, i, j, ties, 0.0) if ties else []
            for fit in fits:
                trial = copy.deepcopy(network)
                snap_edge(trial.layers[index], i, j, fit)
                # One start: the trial's own numbers. Perturbed restarts are for the polish
                # after snapping; here they multiplied the cost of every trial by up to four.
                trial_loss = polish_symbolic(trial, x, target, weights, max_iter=steps, n_starts=1, deadline=deadline)
                if trial_loss <= tolerance * loss_value or trial_loss <= exact:
                    network.load_state_dict(trial.state_dict())
                    snapped[(index, i, j)] = fit.r2
                    loss_value = trial_loss
                    break
    return loss_value


def _partial_residuals(network, x, target):
    """What each output-layer edge should compute, given everything else: shape (batch, in, out).

    The target minus the rest of the network's output at that edge's output
    node. Once the layers before are snapped, this is the function the edge
    must take on the inputs they now produce, which the edge's spline (fitted
    to inputs that have since moved) only approximates: a product that is
    exact makes its output edge exactly linear here, so ``x`` wins over a
    ``sqrt`` with a large offset that mimics the spline's leftover curvature.
    """
    with torch.no_grad():
        inputs = network.layer_inputs(x)
        edges = network.layers[-1].edge_activations(inputs[-2])
        return (target - inputs[-1]).unsqueeze(1) + edges


def _record_snapped(estimator, network, snapped):
    """Set ``symbolic_edges_`` from the network's snapped edges, in the names formulas print.

    ``snapped`` maps newly snapped ``(layer, i, j)`` to their R²; edges
    snapped earlier keep theirs, edges pruned since are dropped.
    """
    canonicalize_network(network)
    r2 = {tuple(entry[:3]): entry[4] for entry in getattr(estimator, "symbolic_edges_", [])}
    r2.update(snapped)
    records = []
    for index, layer in enumerate(network.layers):
        if layer.symbolic is None:
            continue
        names = layer.symbolic.names
        for i, j in (layer.symbolic.mask != 0).nonzero().tolist():
            records.append((index, i, j, names[i][j], float(r2.get((index, i, j), math.nan))))
    estimator.symbolic_edges_ = records


def fix_symbolic(estimator, layer, i, j, name):
    """Snap one edge to the library function ``name`` (fitted affinely).

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
        A fitted estimator; it is changed in place.
    layer, i, j : int
        The edge, as in :func:`suggest_symbolic`.
    name : str
        A candidate name, e.g. ``"sin"``.

    Returns
    -------
    fit : SymbolicFit
        The fit used; its ``r2`` tells how well the function matches. Its
        name may be an equivalent form of ``name`` (``cos(u)`` with a
        quarter-turn phase is ``sin``), the one formulas print.
    """
    view = single_network_view(estimator, "fix_symbolic")
    _check_snappable(view, layer, i, j)
    if name not in SYMBOLIC_FUNCTIONS:
        raise ValueError(f"Unknown symbolic function {name!r}; choose from {list(SYMBOLIC_FUNCTIONS)}.")
    network = copy.deepcopy(view.network)
    inputs, weights = view.layer_inputs(network)
    fit = rank_edge(network, inputs, weights, layer, i, j, [name], 0.0)[0]
    snap_edge(network.layers[layer], i, j, fit)
    _record_snapped(estimator, network, {(layer, i, j): fit.r2})
    replace_network(estimator, network)
    return fit


def auto_symbolic(
    estimator,
    r2_threshold=0.99,
    *,
    library=None,
    layers=None,
    X=None,
    y=None,
    max_iter=50,
    simplicity_weight=0.2,
    time_budget=None,
):
    """Snap every edge whose best closed-form fit is good enough.

    Layer by layer, each remaining spline edge is ranked as in
    :func:`suggest_symbolic`; if the best candidate's R² reaches
    ``r2_threshold`` the edge computes that function from then on.
    After each layer, all remaining numbers (affine parameters of the
    symbolic edges, splines not snapped, biases) are fine-tuned with
    L-BFGS, so later layers see the inputs the snapped edges produce.
    Once every edge is symbolic (regression), Levenberg-Marquardt steps
    polish the constants to the precision the data allow.

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
        A fitted estimator; it is changed in place.
    r2_threshold : float, default=0.99
        Minimum R² for snapping an edge (the quality threshold); edges
        below it stay splines and appear in formulas as undefined
        functions. ``-inf`` snaps every edge.
    library : list of str, optional
        Candidate names (see :func:`suggest_symbolic`).
    layers : list of int, optional
        Layers whose edges may be snapped (all by default). Snapping one
        layer with a restricted library, then the next, guides the
        search, e.g. ``layers=[0], library=["x"]`` first.
    X, y : array-like, optional
        Data to fine-tune on (use the training data for the most
        accurate constants). By default the snapped network is tuned to
        reproduce the unsnapped network on the stored training sample.
        Class labels must be among the classifier's ``classes_``.
    max_iter : int, default=50
        L-BFGS steps of each fine-tuning round; 0 disables it.
    simplicity_weight : float, default=0.2
        The trade-off between accuracy and simplicity (pykan's
        ``weight_simple``): see :func:`suggest_symbolic`. Larger values
        prefer simpler functions among good fits.
    time_budget : float, optional
        Seconds after which the numerical work stops early: fine-tuning
        and polishing end at their next step, and no further alternative
        function is tried on a snapped edge. Ranking and snapping always
        finish, so every edge that reaches ``r2_threshold`` is still
        snapped and the formula is complete; only its constants may be
        less polished, and with a budget the result depends on the
        machine's speed. None (default): no limit.

    Returns
    -------
    estimator : KANRegressor or KANClassifier
        The estimator; ``symbolic_edges_`` lists the snapped edges as
        ``(layer, i, j, name, r2)``, named as formulas print them.
    """
    view = single_network_view(estimator, "auto_symbolic")
    if (X is None) != (y is None):
        raise ValueError("Pass both X and y to fine-tune on data, or neither.")
    if time_budget is not None and (
        isinstance(time_budget, bool) or not (isinstance(time_budget, Real) and time_budget > 0)
    ):
        raise ValueError(f"time_budget must be a positive number of seconds or None, got {time_budget!r}.")
    deadline = None if time_budget is None else time.perf_counter() + float(time_budget)
    network = copy.deepcopy(view.network)
    x, target, weights, loss = _tuning_data(view, network, X, y)

    def loss_fn(output, target, weights):
        return prediction_loss(output, target, weights, loss)

    snapped, alternatives = {}, {}
    for index, layer in enumerate(network.layers):
        if layers is not None and index not in layers:
            continue
        output_layer = index == len(network.layers) - 1 and loss.name == "squared_error"
        if output_layer:
            inputs, sample_weights = network.layer_inputs(x), weights
            residuals = _partial_residuals(network, x, target)
        else:
            inputs, sample_weights = view.layer_inputs(network)
        monotone = view.monotone_edges(index)
        for i, j in (layer.mask != 0).nonzero().tolist():
            if index == 0 and view.is_categorical[i]:
                continue  # a lookup table, not a function to snap
            if monotone[i, j]:
                continue  # monotonic_cst: the edge stays a monotone spline
            values = residuals[:, i, j] if output_layer else None
            fits = rank_edge(network, inputs, sample_weights, index, i, j, library, simplicity_weight, values)
            if fits[0].r2 >= r2_threshold:
                snap_edge(layer, i, j, fits[0])
                snapped[(index, i, j)] = fits[0].r2
                alternatives[(index, i, j)] = _near_ties(fits)
        fully_symbolic = all(not bool((other.mask != 0).any()) for other in network.layers)
        if max_iter and fully_symbolic and loss.name == "squared_error":
            # Levenberg-Marquardt converges far faster than L-BFGS here.
            loss_value = polish_symbolic(network, x, target, weights, max_iter=2 * max_iter, deadline=deadline)
            _revise_edges(
                network, x, target, weights, library, loss_value, 2 * max_iter, snapped, alternatives, deadline
            )
            break
        if max_iter:
            fine_tune(network, x, target, weights, loss_fn, max_iter=max_iter, deadline=deadline)
    _record_snapped(estimator, network, snapped)
    replace_network(estimator, network)
    return estimator
