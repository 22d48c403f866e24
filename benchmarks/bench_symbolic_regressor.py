"""KANSymbolicRegressor against gplearn's SymbolicRegressor on the formulas of ``bench_formulas.py``.

Twenty-five noise-free formulas: the thirteen of ``bench_formulas.py`` and
twelve more of 2-5 variables from the AI Feynman database
(``EXTRA_FORMULAS``, with their equation numbers), with the same rows and
recovery criterion (500 training rows, 1,000 test rows; a formula is
recovered when, with its constants rounded to simple numbers within 1e-3, it
simplifies to the truth). No structure is given:

* skkan: ``KANSymbolicRegressor(time_budget=B, random_state=0)`` with its
  defaults (the structure search of its docstring);
* gplearn: ``SymbolicRegressor(population_size=1000, function_set=(add, sub,
  mul, div, sqrt, log, sin, cos, protected exp), parsimony_coefficient=1e-3,
  random_state=0)``, grown one generation at a time (``warm_start``) until
  ``B`` seconds have passed, its fitness (mean absolute error) is below
  1e-10, or 200 generations. Its protected ``div``, ``sqrt``, ``log`` and
  ``exp`` are read as the plain functions when judging recovery (test RMSE
  uses gplearn's own ``predict``).

* pykan 0.2.8 (``pip install --no-deps pykan==0.2.8``): it has no
  structure search, so it runs the generic recipe of its tutorials for a
  law of unknown shape, once: ``KAN(width=[n, 5, 1], grid=5, k=3, seed=0)``,
  40 L-BFGS steps with ``lamb=1e-3``, ``prune()``, 20 steps, ``auto_symbolic()``,
  20 steps (the recipe of ``bench_formulas.py`` with a 5-node hidden layer
  in place of the formula's own shape). It does not stop at a budget; its
  seconds are what the recipe took.

skkan and gplearn get the same budget ``B`` (``--budget``, default 60 s); the
candidate skkan runs when the budget ends stops polishing there, so its
seconds exceed the budget by at most that candidate's training.
Test rows never choose anything. Run
``OMP_NUM_THREADS=1 python benchmarks/bench_symbolic_regressor.py`` (``--tool
skkan``, ``gplearn`` or ``pykan``, ``--only NAME,NAME``); results go to
``benchmarks/results/symbolic_regressor_<tool>.json``, the table to
``benchmarks/results/symbolic_regressor.md`` and the figure beside it.
``--noise 0.01`` adds Gaussian noise of 1% of the targets' spread to the
training rows (seeded; test rows stay noise-free) and writes
``symbolic_regressor_<tool>_noise.json`` and ``symbolic_regressor_noise.md``.
"""

import argparse
import json
import math
import time
import warnings
from pathlib import Path

import numpy as np
import sympy
from bench_formulas import _LOCALS, FORMULAS, SYMBOLS, _rmse, is_recovered, make_data, pykan_recipe_formula

from skkan import KANSymbolicRegressor

x0, x1, x2, x3, x4 = SYMBOLS
# Twelve more formulas of 2-5 variables from the AI Feynman database (Udrescu and Tegmark, Science
# Advances 2020; equation numbers as there, physical constants dropped or kept as numbers), chosen
# before this benchmark first ran on them and kept fixed: name, truth, variables, input range, source.
EXTRA_FORMULAS = [
    ("x0/(4*pi*x1**2)", x0 / (4 * sympy.pi * x1**2), 2, (1, 5), "II.3.24"),
    ("x0/(2*(1+x1))", x0 / (2 * (1 + x1)), 2, (1, 5), "II.38.14"),
    ("x0/(exp(x0/x1)-1)", x0 / (sympy.exp(x0 / x1) - 1), 2, (1, 5), "III.4.33"),
    ("x0/(4*pi*x1*x2**2)", x0 / (4 * sympy.pi * x1 * x2**2), 3, (1, 5), "I.12.4"),
    ("x0*x1*x2", x0 * x1 * x2, 3, (1, 5), "I.14.3"),
    ("1/(1/x0+x1/x2)", 1 / (1 / x0 + x1 / x2), 3, (1, 5), "I.27.6"),
    ("x1*x2/(x0-1)", x1 * x2 / (x0 - 1), 3, (2, 5), "I.39.11"),
    ("x0*(cos(x1)+x2*cos(x1)**2)", x0 * (sympy.cos(x1) + x2 * sympy.cos(x1) ** 2), 3, (1, 3), "I.50.26"),
    ("x0*(x1**2+x2**2+x3**2)/2", x0 * (x1**2 + x2**2 + x3**2) / 2, 4, (1, 5), "I.13.4"),
    ("x0*x1*x2/x3", x0 * x1 * x2 / x3, 4, (1, 5), "I.34.8"),
    ("sqrt((x1-x0)**2+(x3-x2)**2)", sympy.sqrt((x1 - x0) ** 2 + (x3 - x2) ** 2), 4, (1, 5), "I.8.14"),
    ("x0*(x1-x2)*x3/x4", x0 * (x1 - x2) * x3 / x4, 5, (1, 5), "II.2.42"),
]
# Every formula of the benchmark: bench_formulas.py's thirteen, then the twelve above.
ALL_FORMULAS = [(name, truth, n_vars, bounds) for name, truth, n_vars, bounds, *_ in FORMULAS] + [
    entry[:4] for entry in EXTRA_FORMULAS
]

RESULTS = Path(__file__).resolve().parent / "results" / "symbolic_regressor.md"
_MAX_GENERATIONS = 200
TOOLS = ("skkan", "gplearn", "pykan")


def run_skkan(X, y, budget):
    """KANSymbolicRegressor's defaults; the formula and a numpy function of X."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = KANSymbolicRegressor(time_budget=budget, random_state=0).fit(X, y)
    return model.formula_, model.predict, {"candidates": model.n_candidates_, "structure": model.structure_}


def _protected_exp(x):
    with np.errstate(over="ignore"):
        return np.where(x < 100, np.exp(np.minimum(x, 100)), 0.0)


def run_gplearn(X, y, budget):
    """gplearn grown generation by generation within ``budget`` seconds; the formula and a numpy function."""
    from gplearn.functions import make_function
    from gplearn.genetic import SymbolicRegressor

    exp = make_function(function=_protected_exp, name="exp", arity=1)
    model = SymbolicRegressor(
        population_size=1000,
        generations=1,
        function_set=("add", "sub", "mul", "div", "sqrt", "log", "sin", "cos", exp),
        parsimony_coefficient=1e-3,
        stopping_criteria=1e-10,
        warm_start=True,
        random_state=0,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
        while (
            time.perf_counter() - start < budget
            and model.run_details_["best_fitness"][-1] > 1e-10
            and model.generations < _MAX_GENERATIONS
        ):
            model.set_params(generations=model.generations + 1).fit(X, y)
    return _gplearn_formula(str(model)), model.predict, {"generations": model.generations}


def run_pykan(X, y, budget):
    """pykan's generic recipe (module docstring); the formula and a numpy function (``budget`` is not used)."""
    import kan  # noqa: F401 - a missing pykan stops the run rather than filling the table with errors

    n_vars = X.shape[1]
    try:
        # The recipe of bench_formulas.py on a 5-node hidden layer (the test rows only feed pykan's logging).
        formula = pykan_recipe_formula(X, y, X, y, [n_vars, 5, 1])
    except Exception as error:  # report, do not abort the benchmark
        return None, None, {"error": f"{type(error).__name__}: {error}"[:200]}
    function = sympy.lambdify(SYMBOLS[:n_vars], formula, "numpy")
    return formula, lambda X: np.broadcast_to(function(*X.T), (X.shape[0],)), {}


def _gplearn_formula(program):
    """gplearn's program string as sympy, its protected functions read as the plain ones."""
    names = {f"X{i}": symbol for i, symbol in enumerate(SYMBOLS)}
    names.update(
        add=lambda a, b: a + b,
        sub=lambda a, b: a - b,
        mul=lambda a, b: a * b,
        div=lambda a, b: a / b,
        sqrt=sympy.sqrt,
        log=sympy.log,
        sin=sympy.sin,
        cos=sympy.cos,
        exp=sympy.exp,
    )
    return sympy.sympify(program, locals=names)


def _result_path(noise, tool=None, suffix=".md"):
    """Where a run's results go: ``symbolic_regressor[_TOOL][_noise].EXT`` under ``benchmarks/results``."""
    name = "symbolic_regressor" + ("" if tool is None else f"_{tool}") + ("_noise" if noise else "")
    return RESULTS.with_name(name + suffix)


def run(tool, only, budget, noise=0.0):
    runner = {"skkan": run_skkan, "gplearn": run_gplearn, "pykan": run_pykan}[tool]
    path = _result_path(noise, tool, ".json")
    results = json.loads(path.read_text()) if path.exists() else {}
    names = None if only is None else only.split(",")
    for name, truth, n_vars, bounds in ALL_FORMULAS:
        if names is not None and name not in names:
            continue
        X, y, X_test, y_test = make_data(truth, n_vars, bounds)
        if noise:
            # Gaussian noise of ``noise`` times the targets' spread on the training rows only; the test
            # RMSE is measured against the noise-free law.
            y = y + noise * np.std(y) * np.random.default_rng(1).normal(size=y.shape)
        start = time.perf_counter()
        formula, predict, details = runner(X, y, budget)
        seconds = time.perf_counter() - start
        results[name] = {
            "formula": sympy.sstr(formula),
            "recovered": bool(is_recovered(formula, truth)),
            "rmse": math.inf if predict is None else _rmse(predict, X_test, y_test),
            "seconds": seconds,
            **details,
        }
        print(tool, name, results[name], flush=True)
        path.write_text(json.dumps(results, indent=1, default=str))


def report(budget, noise=0.0):
    tools = {}
    for tool in TOOLS:
        path = _result_path(noise, tool, ".json")
        if path.exists():
            tools[tool] = json.loads(path.read_text())
    lines, counts = [], {tool: [0, 0, 0.0] for tool in tools}
    for name, truth, *_ in ALL_FORMULAS:
        cells = [name]
        for tool, results in tools.items():
            result = results.get(name)
            if result is None:
                cells += ["not run", "", "", ""]
                continue
            recovered = is_recovered(sympy.sympify(result["formula"], locals=_LOCALS), truth)
            counts[tool][0] += recovered
            counts[tool][1] += 1
            counts[tool][2] += result["seconds"]
            rmse = "inf" if not math.isfinite(result["rmse"]) else f"{result['rmse']:.1e}"
            formula = result["formula"] if len(result["formula"]) < 90 else result["formula"][:87] + "..."
            cells += ["yes" if recovered else "no", rmse, f"{result['seconds']:.0f}", f"`{formula}`"]
        lines.append("| " + " | ".join(cells) + " |")
    summary = "; ".join(
        f"{tool}: {hits} of {total} recovered, {seconds:.0f} s in all"
        for tool, (hits, total, seconds) in counts.items()
        if total
    )
    columns = "".join(f"| {tool} recovered | {tool} test RMSE | {tool} seconds | {tool} formula " for tool in tools)
    header = "| formula " + columns + "|\n|" + "---|" * (1 + 4 * len(tools))
    text = (
        f"# KANSymbolicRegressor against {' and '.join(tool for tool in tools if tool != 'skkan')}\n\n"
        f"{summary}. Budget {budget:g} s per formula, "
        + (f"training targets with Gaussian noise of {noise:g} times their spread" if noise else "noise-free data")
        + ", defaults (no structure given).\n\n"
        "Generated by `python benchmarks/bench_symbolic_regressor.py` (settings and criterion in its docstring).\n\n"
        + header
        + "\n"
        + "\n".join(lines)
        + "\n"
    )
    _result_path(noise).write_text(text)
    _plot(tools, _result_path(noise, suffix=".png"))
    print(text)


def _plot(tools, path):
    """``symbolic_regressor.png``: seconds per formula and tool, solid where the formula was recovered."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [name for name, *_ in ALL_FORMULAS]
    colours = {"skkan": "tab:blue", "gplearn": "tab:orange", "pykan": "tab:green"}
    figure, axes = plt.subplots(figsize=(8, 0.32 * len(names) + 1.2))
    height = 0.8 / len(tools)
    for offset, (tool, results) in enumerate(tools.items()):
        for row, name in enumerate(names):
            result = results.get(name)
            if result is None:
                continue
            recovered = is_recovered(sympy.sympify(result["formula"], locals=_LOCALS), ALL_FORMULAS[row][1])
            axes.barh(
                row + (offset - (len(tools) - 1) / 2) * height,
                result["seconds"],
                height=height,
                color=colours[tool] if recovered else "white",
                edgecolor=colours[tool],
                hatch=None if recovered else "//",
                label=f"{tool} ({'recovered' if recovered else 'not recovered'})",
            )
    handles, labels = axes.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    # Below the axes: inside, the legend hid the last formulas' bars.
    axes.legend(unique.values(), unique.keys(), loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3, fontsize=8)
    axes.set_yticks(range(len(names)), names, fontsize=7)
    axes.invert_yaxis()
    axes.set_xlabel("seconds (filled: exact recovery, hatched: not recovered)")
    axes.set_title(f"Symbolic regression without a given structure: {', '.join(tools)}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", choices=[*TOOLS, "all"], default="all")
    parser.add_argument("--only", help="run only these formulas (names, comma-separated)")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per formula and tool")
    parser.add_argument("--noise", type=float, default=0.0, help="training-target noise, times their spread")
    parser.add_argument("--report-only", action="store_true", help="only rewrite the table from saved results")
    arguments = parser.parse_args()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    if not arguments.report_only:
        for tool in TOOLS if arguments.tool == "all" else (arguments.tool,):
            run(tool, arguments.only, arguments.budget, arguments.noise)
    report(arguments.budget, arguments.noise)


if __name__ == "__main__":
    main()
