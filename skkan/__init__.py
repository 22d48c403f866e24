"""skkan: Kolmogorov-Arnold Network estimators for scikit-learn."""

from ._classifier import KANClassifier
from ._persistence import get_trusted_types
from ._regressor import KANRegressor
from ._symbolic_regressor import KANSymbolicRegressor
from ._version import __version__
from ._view import FittedKAN
from .exceptions import TrainingDivergedError, UnsafeModelError
from .export import register_skl2onnx, to_onnx

__all__ = [
    "FittedKAN",
    "KANClassifier",
    "KANRegressor",
    "KANSymbolicRegressor",
    "TrainingDivergedError",
    "UnsafeModelError",
    "__version__",
    "get_trusted_types",
    "register_skl2onnx",
    "to_onnx",
]
