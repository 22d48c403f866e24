"""A fitted KAN's formulas: as sympy expressions, numpy functions, LaTeX, and Python, C or JavaScript code.

The expressions are built in :mod:`._formula` (needs the ``symbolic``
extra); spline edges can first be snapped on a copy (:func:`auto_symbolic`).
"""

import copy
import keyword
import math
import re

from ._common import fitted_view, single_network_view
from ._formula import import_sympy
from ._symbolic import auto_symbolic

__all__ = ["code_identifiers", "symbolic_code", "symbolic_formula", "symbolic_function", "symbolic_latex"]

_LANGUAGES = ("python", "c", "javascript")


_SPLINE_EDGES = ("keep", "snap")


def _has_spline_edges(view):
    """Whether an edge is still a spline; a categorical input's edges are lookup tables, exact as they are."""
    first_layer = view.spline_mask(0) & ~view.is_categorical[:, None]
    return bool(first_layer.any()) or any(view.spline_mask(index).any() for index in range(1, view.n_layers))


def _formula_view(estimator, spline_edges, library):
    """The view whose network the formula is read from: the estimator's, or a fully snapped copy."""
    if spline_edges not in _SPLINE_EDGES:
        raise ValueError(f"spline_edges must be one of {list(_SPLINE_EDGES)}, got {spline_edges!r}.")
    view = single_network_view(estimator, "A symbolic formula")
    if spline_edges == "snap" and _has_spline_edges(view):
        snapped = copy.deepcopy(estimator)
        auto_symbolic(snapped, -math.inf, library=library)
        view = fitted_view(snapped)
    return view


def symbolic_formula(estimator, precision=4, *, simplify=True, spline_edges="keep", library=None):
    """Closed-form expression of every output, in the original feature units.

    Never fails on a fitted model: snapped edges (see :func:`auto_symbolic`)
    give their functions, and edges that are still splines appear as
    functions ``f_l_i_j(u)`` of their input ``u`` (for the first layer, the
    feature in original units; ``f_{l,i,j}`` in LaTeX), or are snapped to
    their best candidate with ``spline_edges="snap"`` (on a copy; the
    estimator is unchanged). Every result lambdifies, prints with sympy's
    ``pycode``, ``ccode`` and ``jscode`` (a spline edge as a call of a
    function the caller supplies; see :func:`symbolic_code`) and pickles.
    :func:`symbolic_table` shows how well each spline edge fits its best
    candidate. Input scaling (and, for regressors, target scaling)
    is undone, the expression is expanded, numbers are rounded to
    ``precision`` decimals (terms that round to zero vanish) and numbers
    within rounding distance of a simple rational or rational multiple of pi
    are replaced by it. Product nodes appear as products.

    Missing values and categorical inputs (see the user guide's *Tabular
    data*) appear as :class:`sympy.Piecewise` terms of the first-layer edges:

    - an input that had missing values in training:
      ``Piecewise((m, isnan(x)), (phi(x), True))``, with ``m`` the edge's
      learned value for a missing input. An input never missing in training
      gets no such branch, so the formula stays compact; it is then
      undefined (NaN) where that input is missing, whereas ``predict`` adds
      the edge's mean value;
    - a categorical input: ``Piecewise((v_1, Eq(c, 'blue')), (v_2, Eq(c,
      'red')), ..., (v_default, True))`` over the categories of
      ``categories_`` (first a missing branch if the input had missing
      values in training); ``v_default`` is what an unknown category gets.

    Their conditions print as shown and render in LaTeX (``x \\text{ is
    missing}``, ``c = \\text{blue}``); sympy's ``simplify`` keeps them.
    Each Piecewise is rounded branch by branch; a term that is a sum's own
    term absorbs its numeric factor (the target scale of a one-layer model).

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
        A fitted estimator.
    precision : int, default=4
        Decimals kept.
    simplify : bool, default=True
        Run sympy's simplification on the rounded result.
    spline_edges : {"keep", "snap"}, default="keep"
        What spline edges become: undefined functions, or their best
        candidate (with the affine numbers re-fitted, as in
        :func:`auto_symbolic` with ``r2_threshold=-inf``).
    library : list of str, optional
        Candidates for ``spline_edges="snap"``.

    Returns
    -------
    expressions : list of sympy.Expr
        One per output (regression target, or logit for classifiers),
        in the symbols ``feature_names_in_`` (else ``x0, x1, ...``).
    """
    from ._formula import network_formula

    view = _formula_view(estimator, spline_edges, library)
    return network_formula(view, precision=precision, simplify=simplify)


def symbolic_function(estimator, precision=4, *, simplify=True, spline_edges="keep", library=None):
    """The symbolic formula as a numpy function of ``X``.

    Spline edges left in the formula (``f_l_i_j``) are evaluated with the
    network's splines, so the function always runs.

    Returns
    -------
    function : callable
        ``function(X)`` takes what ``predict`` takes (an array or a
        DataFrame of shape (n_samples, n_features), validated the same way,
        with categorical columns as their categories and NaN for missing
        values) and returns an array of shape (n_samples,) or (n_samples,
        n_outputs), like the raw model output. Categorical conditions
        compare the category codes ``predict`` uses (a category's position
        in ``categories_``; an unknown one takes the default branch).
    """
    from ._formula import formula_to_numpy, network_formula

    view = _formula_view(estimator, spline_edges, library)
    expressions = network_formula(view, precision=precision, simplify=simplify)
    return formula_to_numpy(expressions, view.feature_names, view)


def symbolic_latex(estimator, precision=4, *, simplify=True, spline_edges="keep", library=None):
    """LaTeX strings of :func:`symbolic_formula`, one per output."""
    from ._formula import import_sympy

    sympy = import_sympy()
    expressions = symbolic_formula(estimator, precision, simplify=simplify, spline_edges=spline_edges, library=library)
    return [sympy.latex(expression) for expression in expressions]


def code_identifiers(names):
    """Valid, distinct identifiers for feature names: other characters become ``_``; a leading digit gets ``x_``."""
    identifiers, taken = [], set()
    for name in names:
        identifier = re.sub(r"\W", "_", str(name), flags=re.ASCII) or "x"
        if identifier[0].isdigit() or keyword.iskeyword(identifier):
            identifier = "x_" + identifier
        base, suffix = identifier, 1
        while identifier in taken:
            identifier, suffix = f"{base}_{suffix}", suffix + 1
        taken.add(identifier)
        identifiers.append(identifier)
    return identifiers


def symbolic_code(estimator, language="python", precision=4, *, simplify=True, spline_edges="keep", library=None):
    """Every output's formula as an expression in Python, C or JavaScript source, through sympy's printers.

    The formula is :func:`symbolic_formula`'s. Its variables are the
    feature names made identifiers (characters other than letters, digits
    and ``_`` become ``_``; a name starting with a digit or a keyword gets
    ``x_``); a categorical feature is its category code (its position in
    ``categories_``, as ``FittedKAN.encode`` gives it) and a missing value
    is NaN (``isnan`` conditions). Python code uses the ``math`` module, C
    code ``math.h``. A spline edge that was not snapped is a call
    ``f_l_i_j(u)`` of a function the caller must supply; pass
    ``spline_edges="snap"`` for code that needs nothing but the language
    (edges under ``monotonic_cst`` always stay splines: a snapped function
    would not be monotone everywhere).

    Parameters
    ----------
    estimator : KANRegressor or KANClassifier
        A fitted estimator (one network, not an ensemble).
    language : {"python", "c", "javascript"}, default="python"
    precision, simplify, spline_edges, library
        As in :func:`symbolic_formula`.

    Returns
    -------
    code : list of str
        One expression per output (regression target, or logit).

    Examples
    --------
    >>> import numpy as np
    >>> from skkan import KANRegressor
    >>> X = np.linspace(-1, 1, 60).reshape(-1, 1)
    >>> model = KANRegressor(hidden_layer_sizes=(), max_iter=5, random_state=0).fit(X, 2 * X[:, 0])
    >>> code = model.symbolic_code("c", spline_edges="snap", library=["x"])
    >>> "f_0_0_0" in code[0]
    False
    """
    if language not in _LANGUAGES:
        raise ValueError(f"language must be one of {list(_LANGUAGES)}, got {language!r}.")
    sympy = import_sympy()
    expressions = symbolic_formula(estimator, precision, simplify=simplify, spline_edges=spline_edges, library=library)
    names = estimator.fitted_view_.feature_names
    renamed = {sympy.Symbol(name): sympy.Symbol(identifier) for name, identifier in zip(names, code_identifiers(names))}
    printer = {"python": sympy.pycode, "c": sympy.ccode, "javascript": sympy.jscode}[language]
    return [printer(expression.xreplace(renamed)) for expression in expressions]
