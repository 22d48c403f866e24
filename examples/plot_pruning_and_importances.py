"""
==========================================================
Feature importances, pruning and the network plot of a KAN
==========================================================

A Kolmogorov-Arnold network learns a one-dimensional function on every edge.
Trained with the sparsity regulariser (``lamb > 0``), most edges fade out;
:meth:`~skkan.KANRegressor.prune` removes them, and the plot shows what is
left: each edge drawn with its learned function, opacity by importance.

The target is ``y = exp(sin(pi * x0) + x1 ** 2)``; three more features are
pure noise.
"""

import matplotlib.pyplot as plt
import numpy as np

from skkan import KANRegressor

rng = np.random.default_rng(0)
X = rng.uniform(-1, 1, size=(500, 5))
y = np.exp(np.sin(np.pi * X[:, 0]) + X[:, 1] ** 2)

reg = KANRegressor(
    hidden_layer_sizes=(3,), early_stopping=False, lamb=1e-2, max_iter=40, random_state=0, dtype="float64"
)
reg.fit(X, y)
print(f"R² before pruning: {reg.score(X, y):.4f}, {reg.n_params_} parameters")

# %%
# Feature importances
# -------------------
# ``feature_importances_`` is the share of the output's variation that flows
# through each input's edges (see :meth:`~skkan.KANRegressor.edge_importances`).
# The three noise features get almost nothing.
fig, ax = plt.subplots(figsize=(5, 2.5))
ax.bar([f"x{i}" for i in range(5)], reg.feature_importances_)
ax.set_ylabel("importance")
fig.tight_layout()

# %%
# The network before pruning
# --------------------------
reg.plot(title="trained with lamb=1e-2")

# %%
# Pruning
# -------
# ``threshold=5e-2`` removes the edges whose importance score is below 5 %
# (with one output, the scores of a layer's edges sum to 1, so this is their
# share of the layer's contribution). A removed edge's mean is folded into the
# next node's bias, so predictions barely move.
reg.prune(threshold=5e-2)
print(reg.pruning_summary_)
print("features kept:", np.flatnonzero(reg.feature_importances_ > 0))
print(f"R² after pruning: {reg.score(X, y):.4f}")

# %%
# A few more iterations without the regulariser recover the accuracy the
# penalty cost; the pruned structure is kept.
reg.set_params(warm_start=True, lamb=0.0, max_iter=30).fit(X, y)
print(f"R² after refitting: {reg.score(X, y):.4f}, {reg.n_params_} parameters")
fig = reg.plot(title="pruned and refitted")

# %%
# Shape functions in the original units
# -------------------------------------
# Each used feature's first-layer edges, against the feature's own values.
reg.plot_features()
plt.show()
