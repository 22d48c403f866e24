"""skkan: Kolmogorov-Arnold Network estimators for scikit-learn."""

from ._classifier import KANClassifier
from ._persistence import get_trusted_types
from ._regressor import KANRegressor
from ._version import __version__
from ._view import FittedKAN
from .exceptions import TrainingDivergedError, UnsafeModelError

__all__ = [
    "FittedKAN",
    "KANClassifier",
    "KANRegressor",
    "TrainingDivergedError",
    "UnsafeModelError",
    "__version__",
    "get_trusted_types",
]
