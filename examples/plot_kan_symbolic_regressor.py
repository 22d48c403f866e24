"""
=============================================
Symbolic regression without choosing a shape
=============================================

:class:`~skkan.KANSymbolicRegressor` finds a closed-form formula on its own:
it trains small KANs of several shapes (sums, products, compositions),
prunes them, snaps every edge to a library function, and keeps the simplest
formula whose error on held-out rows is close to the best. Here it recovers
the kinetic energy of a body from a table with named columns.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import sympy

from skkan import KANSymbolicRegressor

rng = np.random.default_rng(0)
data = pd.DataFrame({"mass": rng.uniform(0.5, 2.0, 400), "velocity": rng.uniform(-3.0, 3.0, 400)})
energy = 0.5 * data["mass"] * data["velocity"] ** 2

reg = KANSymbolicRegressor(random_state=0).fit(data, energy)
print("formula:", reg.formula_)
print(f"validation RMSE: {reg.validation_rmse_:.2e}, structures tried: {reg.n_candidates_}")

# %%
# The candidates
# --------------
# ``pareto_front_`` lists the candidates that no other beats on both
# complexity (nodes of the expression tree) and validation error, simplest
# first. The search stopped as soon as a formula was exact on the held-out
# rows.
for row in reg.pareto_front_:
    print(f"{row['complexity']:3d}  {row['validation_rmse']:.2e}  {row['formula']}  {row['structure']}")

fig, ax = plt.subplots(figsize=(5, 3.5))
front = reg.pareto_front_
ax.plot([r["complexity"] for r in front], [max(r["validation_rmse"], 1e-16) for r in front], "o-")
ax.set(xlabel="complexity (expression nodes)", ylabel="validation RMSE", yscale="log", title="Pareto front")
fig.tight_layout()

# %%
# Noisy measurements
# ------------------
# With 1% noise on the energies, the numbers a network fits carry the noise
# (an exponent of 1.998, a coefficient of 0.501, small extra terms). Each
# candidate's numbers are simplified while the training rows cannot tell the
# simpler formula from the fitted one (a likelihood-ratio test) and its
# held-out error stays within ``tolerance``: what remains is the law.
noisy = energy + 0.01 * energy.std() * rng.normal(size=energy.size)
noisy_reg = KANSymbolicRegressor(time_budget=20, random_state=0).fit(data, noisy)
print("formula from noisy rows:", noisy_reg.formula_)

# %%
# The formula is a sympy expression
# ---------------------------------
# ``predict`` evaluates it; it also prints as C code for deployment.
print(sympy.ccode(reg.formula_))
X_new = pd.DataFrame({"mass": [1.0, 2.0], "velocity": [2.0, -1.0]})
print(reg.predict(X_new))
plt.show()
