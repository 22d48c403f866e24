"""skkan's optimisers against torch.optim: the same iterates, without torch.optim's start-up cost."""

import pytest
import torch

from skkan._engine.optimizers import LBFGS, Adam


def _parameters(seed):
    generator = torch.Generator().manual_seed(seed)
    shapes = [(3, 4), (4,), (2, 3, 5)]
    return [torch.randn(shape, generator=generator, dtype=torch.float64).requires_grad_() for shape in shapes]


def _loss(parameters):
    # Rosenbrock-like coupling between all entries: not a quadratic, so the
    # line search and the curvature pairs both matter.
    flat = torch.cat([p.reshape(-1) for p in parameters])
    return (100 * (flat[1:] - flat[:-1].square()).square() + (1 - flat[:-1]).square()).sum()


def _run(optimizer_class, parameters, n_steps, **options):
    optimizer = optimizer_class(parameters, **options)

    def closure():
        optimizer.zero_grad(set_to_none=True)
        value = _loss(parameters)
        value.backward()
        return value

    losses = [float(optimizer.step(closure).detach()) for _ in range(n_steps)]
    return losses, [p.detach().clone() for p in parameters]


def test_lbfgs_iterates_equal_torch_lbfgs():
    options = {"lr": 1.0, "max_iter": 20, "history_size": 10, "line_search_fn": "strong_wolfe"}
    ours = _run(LBFGS, _parameters(0), 4, **options)
    reference = _run(torch.optim.LBFGS, _parameters(0), 4, **options)
    assert ours[0] == reference[0]
    for mine, theirs in zip(ours[1], reference[1]):
        assert torch.equal(mine, theirs)
    assert ours[0][-1] < ours[0][0]


def _adam_steps(optimizer, parameters, n_steps, scale=None):
    for _ in range(n_steps):
        optimizer.zero_grad(set_to_none=True)
        _loss(parameters).backward()
        if scale is not None:
            optimizer.grad_scale = torch.tensor(scale, dtype=torch.float32)
        optimizer.step()
    return parameters


@pytest.mark.parametrize("fused", [True, False])
def test_adam_matches_torch_adam(fused):
    mine, reference = _parameters(1), _parameters(1)
    _adam_steps(Adam(mine, lr=1e-2, fused=fused), mine, 7)
    _adam_steps(torch.optim.Adam(reference, lr=1e-2, fused=True), reference, 7)
    for ours, theirs in zip(mine, reference):
        if fused:
            assert torch.equal(ours, theirs)  # the same kernel
        else:
            torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-14)
    assert not torch.equal(mine[0], _parameters(1)[0])


@pytest.mark.parametrize("fused", [True, False])
def test_adam_grad_scale_divides_the_gradients(fused):
    scaled, plain = _parameters(2), _parameters(2)
    _adam_steps(Adam(scaled, lr=1e-2, fused=fused), scaled, 3, scale=4.0)
    optimizer = Adam(plain, lr=1e-2, fused=fused)
    for _ in range(3):
        optimizer.zero_grad()
        _loss(plain).backward()
        for parameter in plain:
            parameter.grad /= 4.0
        optimizer.step()
    for ours, theirs in zip(scaled, plain):
        torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-14)


def test_adam_leaves_parameters_without_gradient_alone():
    parameters = _parameters(3)
    frozen = parameters[1].detach().clone()
    optimizer = Adam(parameters, lr=1e-2)
    _loss([parameters[0], parameters[2]]).backward()
    optimizer.step()
    assert torch.equal(parameters[1].detach(), frozen)
    assert parameters[1].grad is None
