"""The one table of candidate functions for symbolic edges.

Each entry holds what every part of skkan needs to know about a function:
its torch implementation (used in training and fitting), a builder of its
sympy expression (formulas), and its complexity (a tie-breaker favouring
simple functions). The sympy builder receives the ``sympy`` module as an
argument, so the engine never imports sympy.

Functions with a restricted domain (``log``, ``sqrt``, ``1/x``, ``arctanh``,
``arcsin``) are evaluated in torch in a protected form (inputs clamped away
from the singularity or the domain's edge), so that training never meets
NaN; a fit whose argument leaves the domain is penalised by the clamp and
ranks low.
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch

__all__ = ["SYMBOLIC_FUNCTIONS", "SymbolicFunction", "function_index", "function_names"]

_EPS = 1e-4
_EXP_MAX = 40.0


def _protected_reciprocal(u):
    safe = torch.where(u.abs() < _EPS, torch.where(u < 0, -_EPS, _EPS) * torch.ones_like(u), u)
    return 1.0 / safe


@dataclass(frozen=True)
class SymbolicFunction:
    """One candidate: ``torch_fn(u)``, ``sympy_fn(sympy, u)`` and a complexity."""

    torch_fn: Callable
    sympy_fn: Callable
    complexity: int


# Complexity breaks near-ties in R²: on a short range cos(a*x) with a tiny
# ``a`` mimics x^2, and the simpler candidate is the one meant (periodic
# functions get no discount for that reason), and cos and the gaussian mimic
# each other, the more common cos winning. The order is part of the saved
# format (snapped edges store an index into it): append, never reorder.
SYMBOLIC_FUNCTIONS = {
    "x": SymbolicFunction(lambda u: u, lambda sp, u: u, 1),
    "x^2": SymbolicFunction(lambda u: u**2, lambda sp, u: u**2, 2),
    "x^3": SymbolicFunction(lambda u: u**3, lambda sp, u: u**3, 3),
    "x^4": SymbolicFunction(lambda u: u**4, lambda sp, u: u**4, 4),
    "1/x": SymbolicFunction(_protected_reciprocal, lambda sp, u: 1 / u, 2),
    "sqrt": SymbolicFunction(lambda u: torch.sqrt(u.clamp(min=_EPS)), lambda sp, u: sp.sqrt(u), 2),
    "exp": SymbolicFunction(lambda u: torch.exp(u.clamp(max=_EXP_MAX)), lambda sp, u: sp.exp(u), 2),
    "log": SymbolicFunction(lambda u: torch.log(u.clamp(min=_EPS)), lambda sp, u: sp.log(u), 2),
    "sin": SymbolicFunction(torch.sin, lambda sp, u: sp.sin(u), 3),
    "cos": SymbolicFunction(torch.cos, lambda sp, u: sp.cos(u), 3),
    "tanh": SymbolicFunction(torch.tanh, lambda sp, u: sp.tanh(u), 3),
    "abs": SymbolicFunction(torch.abs, lambda sp, u: sp.Abs(u), 3),
    "gaussian": SymbolicFunction(lambda u: torch.exp(-(u**2)), lambda sp, u: sp.exp(-(u**2)), 4),
    "arctan": SymbolicFunction(torch.arctan, lambda sp, u: sp.atan(u), 4),
    "arctanh": SymbolicFunction(lambda u: torch.arctanh(u.clamp(-1 + _EPS, 1 - _EPS)), lambda sp, u: sp.atanh(u), 4),
    "arcsin": SymbolicFunction(lambda u: torch.arcsin(u.clamp(-1, 1)), lambda sp, u: sp.asin(u), 4),
}

_NAMES = tuple(SYMBOLIC_FUNCTIONS)


def function_names():
    """Names of the candidates, in their saved order."""
    return _NAMES


def function_index(name):
    """Position of ``name`` in the table (what a snapped edge stores)."""
    if name not in SYMBOLIC_FUNCTIONS:
        raise ValueError(f"Unknown symbolic function {name!r}; choose from {list(_NAMES)}.")
    return _NAMES.index(name)
