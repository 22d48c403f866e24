"""Sympy formulas of fully symbolic KAN networks (needs the ``symbolic`` extra)."""

import math
from fractions import Fraction

import numpy as np

__all__ = ["formula_to_numpy", "import_sympy", "network_formula", "round_expression"]

# Denominators tried when snapping a rounded number to a simple constant.
_MAX_DENOMINATOR = 12
_PI_DENOMINATORS = (1, 2, 3, 4, 6)


def import_sympy():
    try:
        import sympy
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("Symbolic formulas need sympy; install it with `pip install skkan[symbolic]`.") from error
    return sympy


def _sympy_functions(sympy):
    return {
        "x": lambda u: u,
        "x^2": lambda u: u**2,
        "x^3": lambda u: u**3,
        "x^4": lambda u: u**4,
        "1/x": lambda u: 1 / u,
        "sqrt": sympy.sqrt,
        "exp": sympy.exp,
        "log": sympy.log,
        "sin": sympy.sin,
        "cos": sympy.cos,
        "tanh": sympy.tanh,
        "abs": sympy.Abs,
        "gaussian": lambda u: sympy.exp(-(u**2)),
        "arctan": sympy.atan,
        "arctanh": sympy.atanh,
        "arcsin": sympy.asin,
    }


def _snap_number(value, precision, sympy):
    """``value`` rounded to ``precision`` decimals, or a simple exact constant within that distance."""
    tolerance = 0.5 * 10.0 ** (-precision)
    if abs(value) < tolerance:
        return sympy.Integer(0)
    fraction = Fraction(value).limit_denominator(_MAX_DENOMINATOR)
    if abs(value - float(fraction)) < tolerance:
        return sympy.Rational(fraction.numerator, fraction.denominator)
    for denominator in _PI_DENOMINATORS:
        multiple = round(value * denominator / math.pi)
        if multiple and abs(value - multiple * math.pi / denominator) < tolerance:
            return sympy.Rational(multiple, denominator) * sympy.pi
    return sympy.Float(round(value, precision))


def _compact_floats(expression, precision, sympy):
    """Print rounded numbers with the digits they have (``0.1234``, not ``0.123400000000000``)."""
    replacements = {}
    for number in expression.atoms(sympy.Float):
        text = f"{round(float(number), precision):.{precision}f}".rstrip("0").rstrip(".")
        replacements[number] = sympy.Float(text, "")
    return expression.xreplace(replacements)


def round_expression(expression, precision):
    """Expand ``expression`` and round its numbers (see :func:`_snap_number`).

    Expanding first lets terms that cancel up to fitting error (e.g. the
    squares in ``((x+y)^2 - (x-y)^2) / 4``) meet and round to zero, and
    splits exponentials of sums so constant factors merge.
    """
    sympy = import_sympy()
    for _ in range(4):
        expanded = sympy.expand(expression)
        floats = expanded.atoms(sympy.Float)
        rounded = expanded.xreplace({f: _snap_number(float(f), precision, sympy) for f in floats})
        if rounded == expression:
            break
        expression = rounded
    return expression


def network_formula(view, precision=4, simplify=True):
    """Sympy expressions of a fitted estimator's outputs, from its view (see ``symbolic_formula``)."""
    sympy = import_sympy()
    functions = _sympy_functions(sympy)
    symbols = [sympy.Symbol(name) for name in view.feature_names]
    nodes = [
        (symbol - float(mean)) / float(scale) for symbol, mean, scale in zip(symbols, view.input_mean, view.input_scale)
    ]
    for index in range(view.n_layers):
        spline_mask = view.spline_mask(index)
        if spline_mask.any():
            edges = [tuple(e) for e in np.argwhere(spline_mask).tolist()]
            raise ValueError(
                f"Layer {index} still has spline edges {edges[:5]}{'...' if len(edges) > 5 else ''}; snap them with "
                "auto_symbolic (lower r2_threshold) or fix_symbolic, or prune them, before asking for a formula."
            )
        bias = view.bias(index)
        symbolic = view.symbolic_edges(index)
        outputs = []
        for j in range(view.widths[index + 1]):
            expression = sympy.Float(bias[j])
            for i in range(view.widths[index]):
                if (i, j) in symbolic:
                    name, (a, b, c, d) = symbolic[(i, j)]
                    expression += c * functions[name](a * nodes[i] + b) + d
            outputs.append(expression)
        nodes = outputs
    if view.target_scale is not None:
        nodes = [node * float(s) + float(m) for node, s, m in zip(nodes, view.target_scale, view.target_mean)]
    results = []
    for node in nodes:
        expression = round_expression(node, precision)
        if simplify:
            expression = round_expression(sympy.simplify(expression), precision)
            expression = sympy.simplify(expression)
        results.append(_compact_floats(expression, precision, sympy))
    return results


def formula_to_numpy(expressions, names):
    """A numpy function ``f(X)`` evaluating ``expressions`` on the columns of ``X``."""
    sympy = import_sympy()
    symbols = [sympy.Symbol(name) for name in names]
    functions = [sympy.lambdify(symbols, expression, "numpy") for expression in expressions]

    def evaluate(X):
        X = np.asarray(X, dtype=np.float64)
        columns = [X[:, k] for k in range(X.shape[1])]
        values = [np.broadcast_to(np.asarray(f(*columns), dtype=np.float64), (X.shape[0],)) for f in functions]
        return values[0].copy() if len(values) == 1 else np.column_stack(values)

    return evaluate
