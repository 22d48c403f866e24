"""Sympy formulas of KAN networks (needs the ``symbolic`` extra).

Snapped edges become their closed-form functions (from the engine's one
candidate table); edges that are still splines become
:class:`~skkan.interpret._spline_edge.SplineEdge` functions of their input,
printed ``f_l_i_j(u)`` (``f_{l,i,j}`` in LaTeX), which the numpy version of
a formula evaluates with the spline itself.
"""

import math
from fractions import Fraction

import numpy as np

from .._engine.symbolic_library import SYMBOLIC_FUNCTIONS

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


def _combine(view, index, subnodes):
    """Node expressions of level ``index + 1``: product nodes multiply their two subnodes."""
    nodes = {}
    for subnode, node in zip(subnodes, view.subnode_nodes(index).tolist()):
        nodes[node] = subnode if node not in nodes else nodes[node] * subnode
    return [nodes[k] for k in range(view.widths[index + 1])]


def _edge_expression(index, i, j, symbols, nodes, symbolic, spline_mask, sympy):
    """What edge ``(index, i, j)`` computes from its input, or None for a pruned edge."""
    if (i, j) in symbolic:
        name, (a, b, c, d) = symbolic[(i, j)]
        return c * SYMBOLIC_FUNCTIONS[name].sympy_fn(sympy, a * nodes[i] + b) + d
    if spline_mask[i, j]:
        # A first-layer spline reads its feature in original units
        # (it absorbs the input scaling), a deeper one its node.
        from ._spline_edge import SplineEdge

        argument = symbols[i] if index == 0 else nodes[i]
        return SplineEdge(index, i, j, argument)
    return None


def _tabular_branches(view, j, symbols, expressions):
    """Piecewise branches of the first-layer edges into subnode ``j`` that are not one function.

    ``expressions[i]`` is what edge ``(0, i, j)`` computes from a present
    input (None if pruned). Returns ``{i: branches}`` (see
    :mod:`._formula_terms`) for the categorical inputs and for the inputs
    whose missing values were learned from NaN in the training data. An
    input never missing in training gets no missing branch: its missing
    value is only the edge's mean, and the compact formula is what users
    read; the formula (and its numpy function) is then undefined (NaN) for
    a missing value of that input, where ``predict`` uses the mean.
    """
    from ._formula_terms import category_branches, missing_branches

    learned, missing = view.missing_learned, view.missing_values
    branches = {}
    for i, expression in enumerate(expressions):
        if expression is None:
            continue
        missing_value = float(missing[i, j]) if learned[i] else None
        if view.is_categorical[i]:
            values = view.category_values(i)[:, j]
            branches[i] = category_branches(symbols[i], view.categories(i), values, missing_value)
        elif missing_value is not None:
            branches[i] = missing_branches(symbols[i], missing_value, expression)
    return branches


def _round(expression, precision, simplify, sympy):
    expression = round_expression(expression, precision)
    if simplify:
        expression = round_expression(sympy.simplify(expression), precision)
        expression = sympy.simplify(expression)
    return expression


def _insert_terms(expression, terms, precision, simplify, sympy):
    """Replace the placeholders of piecewise edge terms by their rounded Piecewise.

    A placeholder that is a term of the sum on its own (times a number, e.g.
    the target scale) takes the number into its branches, and gives the
    constant of its expression branch to the sum's constant, so a one-layer
    model reads ``Piecewise((0.64, isnan(x)), (2.0*x**2, True)) - 0.12 +
    ...``: the missing value is then what the edge adds for a missing input,
    against ``2.0*x**2`` for a present one.
    """

    def rounded(value):
        if value.is_number:  # most branches (category values): no need for sympy's simplification
            return _snap_number(float(value), precision, sympy)
        return _round(value, precision, simplify, sympy)

    def piecewise(branches, factor=1):
        return sympy.Piecewise(*[(rounded(factor * value), condition) for value, condition in branches])

    def shifted(value, shift):
        if not value.is_number:
            return value.as_coeff_Add()[1]  # the expression branch, whose constant is ``shift``
        return _snap_number(float(value - shift), precision, sympy)

    folded, rest, shifts = [], [], []
    for term in sympy.Add.make_args(expression):
        factor, placeholder = term.as_coeff_Mul()
        if placeholder not in terms:
            rest.append(term)
            continue
        branches = [(rounded(factor * value), condition) for value, condition in terms[placeholder]]
        last = branches[-1][0]
        shift = sympy.Integer(0) if last.is_number else last.as_coeff_Add()[0]
        folded.append(sympy.Piecewise(*[(shifted(value, shift), condition) for value, condition in branches]))
        shifts.append(shift)
    remaining = sympy.Add(*rest)
    if shifts:
        constant, others = remaining.as_coeff_Add()
        remaining = _snap_number(float(constant + sum(shifts)), precision, sympy) + others
    nested = {p: piecewise(terms[p]) for p in remaining.free_symbols if p in terms}
    return remaining.xreplace(nested) + sympy.Add(*folded)


def network_formula(view, precision=4, simplify=True):
    """Sympy expressions of a fitted estimator's outputs, from its view (see ``symbolic_formula``).

    First-layer edges of categorical inputs, and of inputs with learned
    missing values, are Piecewise terms (:func:`_tabular_branches`). They
    stand as placeholder symbols while the formula is expanded, rounded and
    simplified, then each branch is rounded on its own: simplifying a sum of
    Piecewise terms folds them into one Piecewise over every combination of
    conditions.
    """
    sympy = import_sympy()
    symbols = [sympy.Symbol(name) for name in view.feature_names]
    nodes = [
        (symbol - float(mean)) / float(scale) for symbol, mean, scale in zip(symbols, view.input_mean, view.input_scale)
    ]
    terms = {}
    for index in range(view.n_layers):
        spline_mask = view.spline_mask(index)
        bias = view.bias(index)
        symbolic = view.symbolic_edges(index)
        subnodes = []
        for j in range(view.n_subnodes(index)):
            expressions = [
                _edge_expression(index, i, j, symbols, nodes, symbolic, spline_mask, sympy)
                for i in range(view.widths[index])
            ]
            if index == 0:
                for i, branches in _tabular_branches(view, j, symbols, expressions).items():
                    expressions[i] = sympy.Dummy(f"edge_0_{i}_{j}")
                    terms[expressions[i]] = branches
            subnodes.append(sympy.Float(bias[j]) + sum(e for e in expressions if e is not None))
        nodes = _combine(view, index, subnodes)
    if view.target_link == "log":
        nodes = [sympy.exp(node) * float(s) for node, s in zip(nodes, view.target_scale)]
    elif view.target_scale is not None:
        nodes = [node * float(s) + float(m) for node, s, m in zip(nodes, view.target_scale, view.target_mean)]
    results = []
    for node in nodes:
        expression = _round(node, precision, simplify, sympy)
        if terms:
            expression = _insert_terms(expression, terms, precision, simplify, sympy)
        results.append(_compact_floats(expression, precision, sympy))
    return results


def _spline_implementations(view, expressions):
    """Numpy implementations of the spline edges in ``expressions``, by their names in code (``f_l_i_j``)."""
    from ._spline_edge import SplineEdge

    implementations = {}
    for expression in expressions:
        for application in expression.atoms(SplineEdge):
            if view is None:
                continue
            layer, i, j = application.edge
            edge = view.edge_function(layer, i, j)
            if layer == 0:
                mean, scale = float(view.input_mean[i]), float(view.input_scale[i])

                def edge(values, edge=edge, mean=mean, scale=scale):
                    # The spline function of the formula, NaN at NaN like a snapped
                    # edge (the network's edge would give its missing value, which
                    # the formula's Piecewise branch carries where it was learned).
                    values = np.asarray(values, dtype=np.float64)
                    return np.where(np.isnan(values), np.nan, edge((values - mean) / scale))

            implementations[application.identifier] = edge
    return implementations


def formula_to_numpy(expressions, names, view=None):
    """A numpy function ``f(X)`` evaluating ``expressions`` on the columns of ``X``.

    Spline edges (``f_l_i_j``) are evaluated with the splines of ``view``'s
    network. With a ``view``, ``X`` is what ``predict``
    takes (validated, categorical columns encoded as codes, see
    ``FittedKAN.encode``); without one, a numeric array.
    """
    sympy = import_sympy()
    # Features become numbered placeholders: lambdify puts the symbols'
    # names in the generated code's namespace, where a feature named like a
    # numpy function (``sin``, ``isnan``) would shadow it.
    symbols = [sympy.Dummy(f"x{k}") for k in range(len(names))]
    renamed = {sympy.Symbol(name): symbol for name, symbol in zip(names, symbols)}
    implementations = _spline_implementations(view, expressions)
    expressions = [expression.xreplace(renamed) for expression in expressions]
    modules = [implementations, "numpy"]
    functions = [sympy.lambdify(symbols, expression, modules, dummify=True) for expression in expressions]

    def evaluate(X):
        X = np.asarray(X, dtype=np.float64) if view is None else view.encode(X)
        columns = [X[:, k] for k in range(X.shape[1])]
        values = [np.broadcast_to(np.asarray(f(*columns), dtype=np.float64), (X.shape[0],)) for f in functions]
        return values[0].copy() if len(values) == 1 else np.column_stack(values)

    return evaluate
