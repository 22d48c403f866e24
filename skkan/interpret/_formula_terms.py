"""Missing-value and category terms of first-layer edges in formulas (sympy).

A first-layer edge that reads a missing value, or that belongs to a
categorical input, is no single closed-form function of its input (see
:mod:`skkan._engine.tabular`); in a formula it is a :class:`sympy.Piecewise`
over the conditions defined here::

    Piecewise((m, isnan(x)), (phi(x), True))                      numeric input
    Piecewise((m, isnan(c)), (v_0, Eq(c, 'blue')), ..., (v_default, True))   categorical

The conditions :class:`IsMissing` and :class:`IsCategory` print as
``isnan(x)`` and ``Eq(c, 'blue')``, as LaTeX ``x \\text{ is missing}`` and
``c = \\text{blue}``, and lambdify to ``numpy.isnan(x)`` and
``numpy.equal(c, code)`` (in Python, C and JavaScript code ``isnan`` and
``c == code``): lambdified, a formula reads categorical columns
as the codes ``predict`` sees (``FittedKAN.encode``: the category's position
in ``categories_``, -1 for an unknown one, which falls through to the
default), and ``symbolic_function`` encodes its ``X`` so. In sympy, numeric
categories compare as printed: ``Eq(grade, 5).subs(grade, 5)`` is true.

Both conditions are *predicates* for sympy's logic, not boolean functions of
their argument: sympy simplifies a boolean function whose arguments are not
booleans as if it were constant (``isnan(x) & isnan(y)`` became ``True``),
and ``simplify`` would then drop whole branches.

This module needs sympy at import; import it only after
:func:`skkan.interpret._formula.import_sympy`.
"""

import ast

import sympy
from sympy.core.function import Application
from sympy.core.symbol import Str
from sympy.logic.boolalg import Boolean

__all__ = ["IsCategory", "IsMissing", "category_branches", "category_label", "missing_branches"]

# Characters LaTeX's text mode needs escaped in a category label.
_LATEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


class IsMissing(Application, Boolean):
    """Whether the input ``x`` is missing (NaN); prints as ``isnan(x)``."""

    nargs = 1

    @classmethod
    def eval(cls, value):
        if value.is_number:
            return sympy.true if value is sympy.nan else sympy.false
        return None

    def _sympystr(self, printer):
        return f"isnan({printer.parenthesize(self.args[0], 0)})"

    def _latex(self, printer):
        return rf"{printer.parenthesize(self.args[0], 0)} \text{{ is missing}}"

    # numpy and C spell the test as sympy's own printer does.
    _numpycode = _ccode = _sympystr

    def _pythoncode(self, printer):
        return f"math.isnan({printer.parenthesize(self.args[0], 0)})"

    def _javascript(self, printer):
        return f"isNaN({printer.parenthesize(self.args[0], 0)})"


class IsCategory(Application, Boolean):
    """Whether categorical input ``c`` is the category ``label`` (code ``code``); prints as ``Eq(c, label)``.

    Parameters
    ----------
    feature : sympy.Symbol
        The categorical feature.
    label : sympy.core.symbol.Str
        The category as printed (:func:`category_label`).
    code : sympy.Integer
        Its position in the estimator's ``categories_``, which the numpy
        version compares the encoded input with.
    """

    nargs = 3

    @classmethod
    def eval(cls, feature, label, code):
        # Substituting a number for a numeric category compares it with the
        # category as printed (``Eq(grade, 5)`` holds for ``grade = 5``).
        # String categories have no sympy value and stay unevaluated.
        if feature.is_number and label.name[:1] not in "'\"":
            return sympy.true if sympy.Eq(feature, sympy.Float(label.name)) is sympy.true else sympy.false
        return None

    def _sympystr(self, printer):
        return f"Eq({printer.parenthesize(self.args[0], 0)}, {self.args[1].name})"

    def _latex(self, printer):
        text = self.args[1].name
        if text[:1] in "'\"":
            value = str(ast.literal_eval(text))
            text = r"\text{" + "".join(_LATEX_ESCAPES.get(char, char) for char in value) + "}"
        return f"{printer.parenthesize(self.args[0], 0)} = {text}"

    def _numpycode(self, printer):
        return f"equal({printer.parenthesize(self.args[0], 0)}, {int(self.args[2])})"

    # In code, a categorical input is its category code (``FittedKAN.encode``).
    def _pythoncode(self, printer):
        return f"({printer.parenthesize(self.args[0], 0)} == {int(self.args[2])})"

    _ccode = _pythoncode

    def _javascript(self, printer):
        return f"({printer.parenthesize(self.args[0], 0)} === {int(self.args[2])})"


def category_label(category):
    """How a category prints in a formula: a string quoted (``'red'``), a number as a number (``3``, ``2.5``)."""
    if isinstance(category, str):
        return repr(str(category))  # not numpy's "np.str_('red')"
    value = float(category)
    return str(int(value)) if value.is_integer() else repr(value)


def missing_branches(feature, missing_value, expression):
    """Branches ``(expression, condition)`` of a numeric edge whose input may be missing."""
    return [(sympy.Float(missing_value), IsMissing(feature)), (expression, sympy.true)]


def category_branches(feature, categories, values, missing_value=None):
    """Branches ``(expression, condition)`` of a categorical edge.

    Parameters
    ----------
    feature : sympy.Symbol
    categories : array-like
        The sorted categories (codes are their positions).
    values : array-like of shape (len(categories) + 1,)
        The edge's value for each category; the last one is the default of
        an unknown category.
    missing_value : float, optional
        The value for a missing input, first branch when given.
    """
    branches = [] if missing_value is None else [(sympy.Float(missing_value), IsMissing(feature))]
    for code, (category, value) in enumerate(zip(categories, values)):
        condition = IsCategory(feature, Str(category_label(category)), sympy.Integer(code))
        branches.append((sympy.Float(value), condition))
    branches.append((sympy.Float(values[len(categories)]), sympy.true))
    return branches
