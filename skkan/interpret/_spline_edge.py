"""The spline edges of a formula: a sympy function per edge that every printer accepts.

An edge that was not snapped to a closed form stays a spline; in a formula it
is ``SplineEdge(l, i, j, u)``, the spline of edge ``(l, i, j)`` applied to its
input ``u``. It prints as ``f_l_i_j(u)`` (a valid identifier in Python, C and
JavaScript, so ``sympy.lambdify``, ``pycode``, ``ccode`` and ``jscode`` all
accept it, as a call of a function the caller supplies) and as
``f_{l,i,j}(u)`` in LaTeX; it pickles with the expression.

This module needs sympy at import; import it only after
:func:`skkan.interpret._formula.import_sympy`.
"""

import sympy

__all__ = ["SplineEdge"]


class SplineEdge(sympy.Function):
    """The spline of edge ``(layer, i, j)`` applied to ``argument``; prints as ``f_layer_i_j(argument)``."""

    nargs = 4

    @classmethod
    def eval(cls, layer, i, j, argument):
        return None  # a learned spline: never evaluated symbolically

    @property
    def edge(self):
        """``(layer, i, j)`` as ints."""
        return tuple(int(index) for index in self.args[:3])

    @property
    def identifier(self):
        """The function's name in code: ``f_layer_i_j``."""
        return "f_{}_{}_{}".format(*self.edge)

    @property
    def argument(self):
        return self.args[3]

    def _code(self, printer):
        return f"{self.identifier}({printer.parenthesize(self.argument, 0)})"

    _sympystr = _code
    _pythoncode = _code
    _numpycode = _code
    _ccode = _code
    _javascript = _code

    def _latex(self, printer):
        return r"f_{{{},{},{}}}\left({}\right)".format(*self.edge, printer.parenthesize(self.argument, 0))
