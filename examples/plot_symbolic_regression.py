"""
=====================================
Recovering a formula with a KAN
=====================================

On noise-free data a small KAN can give back the law that generated it:
train with the sparsity regulariser, prune, let
:meth:`~skkan.KANRegressor.auto_symbolic` replace every edge by the closed-form
function that fits it best, and read the result with
:meth:`~skkan.KANRegressor.symbolic_formula`.
"""

import matplotlib.pyplot as plt
import numpy as np

from skkan import KANRegressor

rng = np.random.default_rng(0)
X = rng.uniform(-1, 1, size=(1000, 2))
y = np.exp(np.sin(np.pi * X[:, 0]) + X[:, 1] ** 2)

reg = KANRegressor(
    hidden_layer_sizes=(1,), early_stopping=False, lamb=1e-3, max_iter=60, random_state=0, dtype="float64"
)
reg.fit(X, y).prune(1e-2)
print(f"R² of the spline network: {reg.score(X, y):.6f}")

# %%
# Candidates for one edge
# -----------------------
# Every candidate ``f`` is fitted as ``c * f(a * x + b) + d``; near-ties go
# to the simpler function.
for fit in reg.suggest_symbolic(0, 1, 0, top_k=4):
    print(f"{fit.name:>8s}  R² = {fit.r2:.6f}")

# %%
# Snap all edges and read the formula
# -----------------------------------
reg.auto_symbolic(r2_threshold=0.99, X=X, y=y)
print(reg.symbolic_edges_)
formula = reg.symbolic_formula(precision=4)[0]
print("formula:", formula)
print("LaTeX:  ", reg.symbolic_latex()[0])

X_test = rng.uniform(-1, 1, size=(1000, 2))
y_test = np.exp(np.sin(np.pi * X_test[:, 0]) + X_test[:, 1] ** 2)
rmse = np.sqrt(np.mean((reg.symbolic_function()(X_test) - y_test) ** 2))
print(f"test RMSE of the formula: {rmse:.2e}")

# %%
# The symbolic network: red edges compute closed-form functions.
reg.plot(title=f"${reg.symbolic_latex()[0]}$")
plt.show()
