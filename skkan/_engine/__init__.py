"""The torch engine of skkan: B-splines, KAN layers and networks, training.

This subpackage imports only torch: it is usable and testable without
scikit-learn. The estimators in :mod:`skkan` drive it.
"""

from .bspline import bspline_basis, clamp_to_grid, interval_index, uniform_knots
from .device import resolve_device
from .grid import adaptive_grid_points, set_layer_grid
from .kernel import get_spline_kernel, set_spline_kernel, spline_kernel
from .layer import KANLayer
from .network import KANNetwork
from .regularization import edge_magnitudes, smoothness_penalty, sparsity_penalty
from .training import TrainingConfig, TrainingDivergedError, TrainingResult, prediction_loss, train_network

__all__ = [
    "KANLayer",
    "KANNetwork",
    "TrainingConfig",
    "TrainingDivergedError",
    "TrainingResult",
    "adaptive_grid_points",
    "bspline_basis",
    "clamp_to_grid",
    "edge_magnitudes",
    "get_spline_kernel",
    "interval_index",
    "prediction_loss",
    "resolve_device",
    "set_layer_grid",
    "set_spline_kernel",
    "smoothness_penalty",
    "sparsity_penalty",
    "spline_kernel",
    "train_network",
    "uniform_knots",
]
