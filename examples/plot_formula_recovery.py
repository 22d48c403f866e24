"""
==============================================
Recovering formulas with product nodes
==============================================

The recipe of the formula-recovery benchmark
(``benchmarks/bench_formulas.py``), end to end on ``y = x0 * exp(x1)``:

1. sparse training of a KAN whose hidden layer is one *product node*
   (``hidden_layer_sizes=(0,), multiplication_nodes=1``): the product node
   multiplies two sums of edge functions, so the product is exact;
2. pruning the weak edges, and a short refit without the regulariser;
3. snapping every edge to its best closed-form candidate
   (:meth:`~skkan.KANRegressor.auto_symbolic`), which re-fits the constants;
4. reading the formula with :meth:`~skkan.KANRegressor.symbolic_formula`.

Along the way :meth:`~skkan.KANRegressor.symbolic_table` shows what each
edge looks like, and :meth:`~skkan.KANRegressor.plot` draws the network.
"""

import matplotlib.pyplot as plt
import numpy as np
import sympy

from skkan import KANRegressor

rng = np.random.default_rng(0)
X = rng.uniform(-1, 1, size=(500, 2))
y = X[:, 0] * np.exp(X[:, 1])

reg = KANRegressor(
    hidden_layer_sizes=(0,),
    multiplication_nodes=1,
    lamb=1e-2,
    max_iter=40,
    early_stopping=False,
    random_state=0,
    dtype="float64",
)
reg.fit(X, y).prune(5e-2)
reg.set_params(warm_start=True, lamb=0.0, max_iter=20).fit(X, y)
print(f"R² of the spline network: {reg.score(X, y):.6f}")

# %%
# Before snapping: every formula is available
# -------------------------------------------
# Spline edges appear as undefined functions ``f_{l,i,j}`` of their input;
# the table ranks a closed-form candidate for each edge.
print(reg.symbolic_formula()[0])
print(reg.symbolic_table()[["edge", "function", "r2", "complexity", "importance"]])

# %%
# The network before snapping: the product node is the blue square.
reg.plot(title="spline network")

# %%
# Snap and read the formula
# -------------------------
reg.auto_symbolic(0.9, X=X, y=y)
formula = reg.symbolic_formula()[0]
x0, x1 = sympy.symbols("x0 x1")
print("formula:", formula, "  equal to the truth:", sympy.simplify(formula - x0 * sympy.exp(x1)) == 0)
print("edges:  ", reg.symbolic_edges_)

X_test = rng.uniform(-1, 1, size=(1000, 2))
rmse = np.sqrt(np.mean((reg.symbolic_function()(X_test) - X_test[:, 0] * np.exp(X_test[:, 1])) ** 2))
print(f"test RMSE of the formula: {rmse:.2e}")

# %%
# The symbolic network: red edges are labelled with the functions the
# formula prints.
reg.plot(title=f"${reg.symbolic_latex()[0]}$")
plt.show()
