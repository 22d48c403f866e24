"""A fitted KAN's formula as source code in Python, C or JavaScript (needs the ``symbolic`` extra)."""

import keyword
import re

from ._formula import import_sympy

__all__ = ["code_identifiers", "symbolic_code"]

_LANGUAGES = ("python", "c", "javascript")


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
    from ._symbolic import symbolic_formula

    if language not in _LANGUAGES:
        raise ValueError(f"language must be one of {list(_LANGUAGES)}, got {language!r}.")
    sympy = import_sympy()
    expressions = symbolic_formula(estimator, precision, simplify=simplify, spline_edges=spline_edges, library=library)
    names = estimator.fitted_view_.feature_names
    renamed = {sympy.Symbol(name): sympy.Symbol(identifier) for name, identifier in zip(names, code_identifiers(names))}
    printer = {"python": sympy.pycode, "c": sympy.ccode, "javascript": sympy.jscode}[language]
    return [printer(expression.xreplace(renamed)) for expression in expressions]
