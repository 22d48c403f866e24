"""
Quick start: a KAN in a scikit-learn pipeline
=============================================

Fit :class:`skkan.KANRegressor` and :class:`skkan.KANClassifier` with their
default settings inside ordinary scikit-learn pipelines, on two data sets that
ship with scikit-learn, and print test scores next to scikit-learn's MLP.
This is the demo that the README's first command runs.
"""

import time
import warnings

from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skkan import KANClassifier, KANRegressor

# scikit-learn's MLP warns that it has not converged within 2,000 epochs on
# diabetes; its score is what it is either way.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

# %%
# Two small real data sets: disease progression (regression) and tumour
# diagnosis (binary classification). The KAN standardises its inputs itself;
# the imputer is there to show it composes with other steps.
tasks = [
    ("diabetes", "R^2", load_diabetes, KANRegressor, MLPRegressor),
    ("breast cancer", "accuracy", load_breast_cancer, KANClassifier, MLPClassifier),
]

for name, metric, loader, kan, mlp in tasks:
    X, y = loader(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    models = {
        "KAN": make_pipeline(SimpleImputer(), kan(random_state=0)),
        "MLP": make_pipeline(SimpleImputer(), StandardScaler(), mlp(max_iter=2000, random_state=0)),
    }
    for label, model in models.items():
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        score = model.score(X_test, y_test)
        size = f", {model[-1].n_params_} trainable parameters" if label == "KAN" else ""
        print(f"{name:>13}  {label}: test {metric} = {score:.3f}  (fit {seconds:.1f} s{size})")
