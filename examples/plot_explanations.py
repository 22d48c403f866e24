"""
=======================================================================
Explaining predictions: contributions, feature effects, additive models
=======================================================================

Why did one patient get their predicted disease progression? Which features
drive the predictions, and how? This example fits KANs to scikit-learn's
diabetes data and answers both with :meth:`~skkan.KANRegressor.predict_contributions`,
a waterfall chart and feature-effect plots; then it fits an *additive* KAN
(``interaction_cst="no_interactions"``), whose contributions are exact
Shapley values and whose shape functions are exact curves.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

from skkan import KANRegressor

X, y = load_diabetes(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
model = KANRegressor(random_state=0).fit(X_train, y_train)
print(f"default KAN, test R²: {model.score(X_test, y_test):.3f}")

# %%
# Per-row contributions
# ---------------------
# One column per feature plus the base value (the mean prediction over the
# training sample). Each row sums to the prediction.
table = model.predict_contributions(X_test, as_frame=True)
print(table.head(3).round(2))
gap = np.abs(table.sum(axis=1) - model.predict(X_test)).max()
print(f"largest gap between the row sums and predict: {gap:.1e}")

# %%
# One prediction as a waterfall
# -----------------------------
# From the base value to the prediction, largest contributions first.
model.plot_contributions(X_test, row=0, max_features=6)
plt.tight_layout()

# %%
# Feature effects
# ---------------
# Each feature's contribution over the training rows, on one scale. Points
# spread around the mean curve where a feature interacts with others.
model.plot_feature_effects(["bmi", "s5", "bp", "age"], n_cols=4)

# %%
# An additive KAN
# ---------------
# With ``interaction_cst="no_interactions"`` no two features meet in a hidden
# node: the model is a sum of one smooth function per feature, its
# contributions are exact Shapley values, and the effect plots show exact
# curves.
additive = KANRegressor(interaction_cst="no_interactions", random_state=0).fit(X_train, y_train)
print(f"additive KAN, test R²: {additive.score(X_test, y_test):.3f}")
additive.plot_feature_effects(["bmi", "s5", "bp", "age"], n_cols=4)
plt.show()
