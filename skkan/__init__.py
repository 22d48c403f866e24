"""skkan: Kolmogorov-Arnold Network estimators for scikit-learn."""

from ._classifier import KANClassifier
from ._regressor import KANRegressor
from ._version import __version__

__all__ = ["KANClassifier", "KANRegressor", "__version__"]
