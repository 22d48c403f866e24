"""The torch engine on its own: basis, grids, layers, training loop."""

import numpy as np
import pytest
import torch
from scipy.interpolate import BSpline

from skkan._engine import (
    KANLayer,
    KANNetwork,
    TrainingConfig,
    TrainingDivergedError,
    adaptive_grid_points,
    bspline_basis,
    resolve_device,
    set_layer_grid,
    train_network,
    uniform_knots,
)
from skkan._engine.grid import _weighted_quantiles
from skkan._engine.losses import Loss


def _random_knots(n_features, grid_size, spline_order, seed=0):
    generator = torch.Generator().manual_seed(seed)
    steps = torch.rand(n_features, grid_size, generator=generator, dtype=torch.float64) + 0.1
    points = torch.cat([torch.zeros(n_features, 1, dtype=torch.float64), steps.cumsum(1)], dim=1) - 1.0
    from skkan._engine.bspline import extend_knots

    return extend_knots(points, spline_order)


@pytest.mark.parametrize("spline_order", [1, 2, 3, 4])
def test_basis_matches_scipy_on_non_uniform_knots(spline_order):
    knots = _random_knots(3, 6, spline_order)
    low, high = knots[:, spline_order], knots[:, -spline_order - 1]
    x = low + (high - low) * torch.linspace(0, 1, 50, dtype=torch.float64)[:, None]
    basis = bspline_basis(x, knots, spline_order)
    for feature in range(3):
        t = knots[feature].numpy()
        xs = np.clip(x[:, feature].numpy(), t[spline_order], np.nextafter(t[-spline_order - 1], -np.inf))
        expected = BSpline.design_matrix(xs, t, spline_order).toarray()
        np.testing.assert_allclose(basis[:, feature].numpy(), expected, atol=1e-12)


def test_basis_is_partition_of_unity_and_clamps_outside_inputs():
    knots = uniform_knots(torch.tensor([-1.0, 0.0]), torch.tensor([1.0, 5.0]), 5, 3)
    x = torch.tensor([[-100.0, 100.0], [1.0, 5.0], [0.3, 2.2]])
    basis = bspline_basis(x, knots, 3)
    torch.testing.assert_close(basis.sum(-1), torch.ones(3, 2))
    # Far outside the grid the basis equals the one at the boundary.
    torch.testing.assert_close(basis[0, 0], bspline_basis(torch.tensor([[-1.0, 0.0]]), knots, 3)[0, 0])


def test_weighted_quantiles_equal_quantiles_of_repeated_rows():
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(40, 3, generator=generator, dtype=torch.float64)
    weights = torch.randint(0, 4, (40,), generator=generator).to(torch.float64)
    levels = torch.linspace(0, 1, 7, dtype=torch.float64)
    repeated = x.repeat_interleave(weights.long(), dim=0)
    weighted = _weighted_quantiles(x[weights > 0], weights[weights > 0], levels)
    plain = _weighted_quantiles(repeated, torch.ones(repeated.shape[0], dtype=torch.float64), levels)
    torch.testing.assert_close(weighted, plain)


def test_adaptive_grid_is_increasing_even_for_constant_features():
    x = torch.cat([torch.zeros(30, 1), torch.randn(30, 1, generator=torch.Generator().manual_seed(0))], dim=1)
    points = adaptive_grid_points(x, torch.ones(30), 5, 0.02)
    assert torch.all(points[:, 1:] > points[:, :-1])
    assert points[1, 0] < x[:, 1].min() and points[1, -1] > x[:, 1].max()


def test_grid_extension_keeps_the_learned_function():
    generator = torch.Generator().manual_seed(0)
    layer = KANLayer(2, 3, grid_size=5, spline_order=3, generator=generator, dtype=torch.float64)
    x = torch.rand(500, 2, generator=generator, dtype=torch.float64) * 2 - 1
    before = layer(x)
    set_layer_grid(layer, x, torch.ones(500, dtype=torch.float64), grid_size=20)
    assert layer.grid_size == 20 and layer.spline_coef.shape == (2, 3, 23)
    after = layer(x)
    assert torch.max(torch.abs(after - before)) < 1e-2 * torch.max(torch.abs(before))


def test_layer_forward_equals_sum_of_edges():
    generator = torch.Generator().manual_seed(0)
    layer = KANLayer(4, 3, grid_size=7, spline_order=3, generator=generator, dtype=torch.float64)
    layer.mask[1, 2] = 0.0
    x = torch.randn(16, 4, generator=generator, dtype=torch.float64)
    edges = layer.edge_activations(x)
    torch.testing.assert_close(layer(x), edges.sum(1) + layer.bias)
    assert torch.all(edges[:, 1, 2] == 0)


def test_network_training_fits_a_smooth_function_with_lbfgs():
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(300, 2, generator=generator, dtype=torch.float64) * 2 - 1
    y = (torch.sin(torch.pi * x[:, 0]) + x[:, 1] ** 2)[:, None]
    network = KANNetwork([2, 1, 1], grid_size=5, spline_order=3, generator=generator, dtype=torch.float64)
    config = TrainingConfig(loss=Loss("squared_error"), optimizer="lbfgs", learning_rate=1.0, max_iter=10)
    result = train_network(network, x, y, torch.ones(300, dtype=torch.float64), config, generator=generator)
    assert result.n_iter >= 1 and len(result.loss_curve) == result.n_iter
    assert result.loss_curve[-1] < 1e-3 < result.loss_curve[0] * 10


def test_training_raises_when_loss_is_not_finite_from_the_start():
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(50, 2, generator=generator)
    y = torch.full((50, 1), float("nan"))
    network = KANNetwork([2, 1], grid_size=3, spline_order=3, generator=generator)
    config = TrainingConfig(loss=Loss("squared_error"), optimizer="adam", max_iter=5, batch_size=16)
    with pytest.raises(TrainingDivergedError, match="learning_rate"):
        train_network(network, x, y, torch.ones(50), config, generator=generator)


@pytest.mark.parametrize("device", ["gpu", "cuda:x", "auto:0", 3])
def test_resolve_device_rejects_unknown_specifications(device):
    with pytest.raises(ValueError, match="device"):
        resolve_device(device)


def test_resolve_device_auto_and_cpu():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda:0")
