"""The fast spline path against the dense Cox-de Boor reference.

Every test runs on both kernels of the fast path, the eager torch one and the
compiled one (skipped when numba is missing); tests/test_kernel.py compares
the two directly.
"""

import numpy as np
import pytest
import torch

from skkan._engine import KANLayer, KANNetwork, bspline_basis, fast_layer, set_layer_grid
from skkan._engine.bspline import extend_knots
from skkan._engine.kernel import compiled_kernel_available, spline_kernel
from skkan._engine.local_bspline import local_basis, local_dense_basis

# (atol, rtol) of the comparisons per dtype.
_TOLERANCE = {torch.float32: (2e-5, 2e-5), torch.float64: (1e-12, 1e-12)}


@pytest.fixture(autouse=True, params=["eager", "compiled"])
def kernel(request):
    if request.param == "compiled" and not compiled_kernel_available():
        pytest.skip("numba kernel unavailable")
    with spline_kernel(request.param):
        yield request.param


def _random_knots(n_features, grid_size, spline_order, seed=0):
    generator = torch.Generator().manual_seed(seed)
    steps = torch.rand(n_features, grid_size, generator=generator, dtype=torch.float64) + 0.05
    points = torch.cat([torch.zeros(n_features, 1, dtype=torch.float64), steps.cumsum(1)], dim=1) - 1.0
    return extend_knots(points, spline_order)


def _inputs_around_grid(knots, spline_order, n_rows, seed):
    """Inputs inside, on the bounds of and far outside each feature's grid."""
    generator = torch.Generator().manual_seed(seed)
    low, high = knots[:, spline_order], knots[:, -spline_order - 1]
    fractions = torch.rand(n_rows, knots.shape[0], generator=generator, dtype=knots.dtype) * 1.6 - 0.3
    x = low + (high - low) * fractions
    x[0], x[1] = low, high
    x[2], x[3] = low - 100.0, high + 100.0
    # inputs exactly on interior knots
    x[4] = knots[:, spline_order + 1]
    return x


@pytest.mark.parametrize("spline_order", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("grid_size", [1, 5, 20])
def test_local_basis_equals_dense_reference(spline_order, grid_size):
    knots = _random_knots(3, grid_size, spline_order, seed=grid_size)
    x = _inputs_around_grid(knots, spline_order, 64, seed=spline_order)
    expected = bspline_basis(x, knots, spline_order)
    torch.testing.assert_close(local_dense_basis(x, knots, spline_order), expected, atol=1e-13, rtol=0)
    start, values = local_basis(x, knots, spline_order)
    assert start.min() >= 0 and start.max() <= grid_size - 1
    torch.testing.assert_close(values.sum(1), torch.ones_like(x), atol=1e-13, rtol=0)


@pytest.mark.parametrize("spline_order", [1, 2, 3])
def test_local_derivatives_equal_autograd_of_reference(spline_order):
    knots = _random_knots(2, 6, spline_order, seed=3)
    low, high = knots[:, spline_order], knots[:, -spline_order - 1]
    generator = torch.Generator().manual_seed(4)
    x = (low + (high - low) * torch.rand(40, 2, generator=generator, dtype=torch.float64)).requires_grad_()
    start, values, derivatives = local_basis(x, knots, spline_order, with_derivative=True)
    weights = torch.randn(knots.shape[1] - spline_order - 1, generator=generator, dtype=torch.float64)
    (reference_grad,) = torch.autograd.grad((bspline_basis(x, knots, spline_order) @ weights).sum(), x)
    index = start.unsqueeze(1) + torch.arange(spline_order + 1)[:, None]
    torch.testing.assert_close((derivatives * weights[index]).sum(1), reference_grad, atol=1e-11, rtol=1e-11)


def _layer_with_adapted_grid(dtype, seed=0, spline_order=3):
    """A layer after a grid update (non-uniform knots), with a pruned edge."""
    generator = torch.Generator().manual_seed(seed)
    layer = KANLayer(5, 3, grid_size=6, spline_order=spline_order, generator=generator, dtype=dtype)
    data = torch.randn(200, 5, generator=generator, dtype=dtype) ** 3
    set_layer_grid(layer, data, torch.ones(200, dtype=dtype), grid_eps=0.0)
    with torch.no_grad():
        layer.bias.normal_(generator=generator)
    layer.mask[2, 1] = 0.0
    layer.mask[4, :] = 0.0
    return layer


def _outputs_and_gradients(layer, x, use_fast_path):
    layer.use_fast_path = use_fast_path
    x = x.clone().requires_grad_()
    output = layer(x)
    weights = torch.linspace(-1.0, 2.0, output.numel(), dtype=x.dtype).reshape(output.shape)
    parameters = [x, layer.spline_coef, layer.base_weight, layer.spline_weight, layer.bias]
    gradients = torch.autograd.grad((output * weights).sum(), parameters)
    return [output.detach(), *gradients]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fast_layer_matches_reference_values_and_gradients(dtype, kernel):
    layer = _layer_with_adapted_grid(dtype)
    assert not torch.allclose(layer.knots[0, 4:6] - layer.knots[0, 3:5], layer.knots[1, 4:6] - layer.knots[1, 3:5])
    x = _inputs_around_grid(layer.knots, layer.spline_order, 300, seed=1).to(dtype)
    fast = _outputs_and_gradients(layer, x, use_fast_path=True)
    reference = _outputs_and_gradients(layer, x, use_fast_path=False)
    atol, rtol = _TOLERANCE[dtype]
    names = ["output", "x", "spline_coef", "base_weight", "spline_weight", "bias"]
    for name, got, expected in zip(names, fast, reference):
        torch.testing.assert_close(got, expected, atol=atol, rtol=rtol, msg=name)
    # Pruned edges get no gradient, and the clamped outside inputs no spline slope.
    assert torch.all(fast[2][4] == 0) and torch.all(fast[2][2, 1] == 0)
    # (the compiled kernel computes the SiLU slope itself, to rounding error)
    exact = kernel == "eager"
    torch.testing.assert_close(fast[1][2:4, :4], reference[1][2:4, :4], atol=0, rtol=0 if exact else atol)


def test_fast_layer_chunking_gives_the_same_result(monkeypatch):
    layer = _layer_with_adapted_grid(torch.float64, seed=2)
    x = _inputs_around_grid(layer.knots, layer.spline_order, 257, seed=3)
    whole = _outputs_and_gradients(layer, x, use_fast_path=True)
    # A budget of a few rows forces many chunks in forward and backward.
    monkeypatch.setattr(fast_layer, "CHUNK_BUDGET_BYTES", 7 * 8 * layer.spline_coef[..., 0].numel())
    assert fast_layer._chunk_rows(5 * 9, 8) < 40
    chunked = _outputs_and_gradients(layer, x, use_fast_path=True)
    for got, expected in zip(chunked, whole):
        torch.testing.assert_close(got, expected, atol=1e-13, rtol=1e-13)


def test_edge_activations_and_network_agree_between_paths():
    generator = torch.Generator().manual_seed(5)
    network = KANNetwork([3, 4, 2], grid_size=5, spline_order=3, generator=generator, dtype=torch.float64)
    x = torch.randn(64, 3, generator=generator, dtype=torch.float64)
    network.update_grids(x, torch.ones(64, dtype=torch.float64))
    results = {}
    for use_fast_path in (True, False):
        for layer in network.layers:
            layer.use_fast_path = use_fast_path
        output, _, edges = network.forward_with_edges(x)
        results[use_fast_path] = (network(x), output, edges)
    fast, reference = results[True], results[False]
    torch.testing.assert_close(fast[0], reference[0], atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(fast[1], reference[1], atol=1e-12, rtol=1e-12)
    for got, expected in zip(fast[2], reference[2]):
        torch.testing.assert_close(got, expected, atol=1e-12, rtol=1e-12)


def test_fast_path_keeps_no_grid_sized_tensor_for_backward():
    # What autograd keeps between forward and backward must not grow with the grid.
    def saved_numbers(grid_size):
        generator = torch.Generator().manual_seed(0)
        layer = KANLayer(6, 4, grid_size=grid_size, spline_order=3, generator=generator)
        x = torch.randn(500, 6, generator=generator, requires_grad=True)
        sizes = []

        def pack(tensor):
            if tensor.shape and tensor.shape[0] == 500:
                sizes.append(tensor.numel())
            return tensor

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
            layer(x)
        return sum(sizes)

    assert saved_numbers(5) == saved_numbers(50)


def test_estimator_predictions_are_chunked_consistently(monkeypatch):
    from skkan import KANRegressor, _base

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (120, 3))
    y = np.sin(3 * X[:, 0]) + X[:, 1] * X[:, 2]
    model = KANRegressor((4,), max_iter=5, random_state=0, device="cpu").fit(X, y)
    whole = model.predict(X)
    assert model.network_.max_rows_within(1) == 1
    assert model.network_.max_rows_within(2**20) > 100
    monkeypatch.setattr(_base, "_PREDICT_BUDGET_BYTES", 1)  # one row per chunk
    np.testing.assert_allclose(model.predict(X), whole, rtol=1e-6, atol=1e-6)


def test_fused_entry_point_is_the_fast_path_on_cpu():
    layer = _layer_with_adapted_grid(torch.float64, seed=4)
    x = _inputs_around_grid(layer.knots, layer.spline_order, 50, seed=5)
    coef = layer._scaled_coefficients()
    matrix = coef.transpose(1, 2).reshape(-1, layer.out_features)
    fused = fast_layer.fused_spline_contraction(x, matrix, layer.knots, layer.spline_order)
    expected = bspline_basis(x, layer.knots, layer.spline_order).reshape(50, -1) @ matrix
    torch.testing.assert_close(fused, expected, atol=1e-12, rtol=1e-12)
    assert "fn" not in fast_layer._COMPILED


@pytest.mark.parametrize("n_rows", [0, 1])
def test_fast_path_handles_empty_and_single_row_batches(n_rows):
    layer = _layer_with_adapted_grid(torch.float64, seed=6)
    x = torch.zeros(n_rows, 5, dtype=torch.float64)
    fast = _outputs_and_gradients(layer, x, use_fast_path=True)
    reference = _outputs_and_gradients(layer, x, use_fast_path=False)
    assert fast[0].shape == (n_rows, 3)
    for got, expected in zip(fast, reference):
        torch.testing.assert_close(got, expected, atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("spline_order", [0, 1, 2, 4])
def test_fast_layer_matches_reference_for_other_orders(spline_order):
    layer = _layer_with_adapted_grid(torch.float64, seed=7, spline_order=spline_order)
    x = _inputs_around_grid(layer.knots, spline_order, 100, seed=8)
    fast = _outputs_and_gradients(layer, x, use_fast_path=True)
    reference = _outputs_and_gradients(layer, x, use_fast_path=False)
    for got, expected in zip(fast, reference):
        torch.testing.assert_close(got, expected, atol=1e-12, rtol=1e-12)
