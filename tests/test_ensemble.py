"""ensemble_size: several KANs packed into one network, each trained on its own loss, predictions averaged."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone

from skkan import KANClassifier, KANRegressor
from skkan._engine import KANNetwork
from skkan._engine.linear_start import start_at_linear
from skkan._engine.losses import Loss, per_sample_loss
from skkan._engine.serialization import network_from_data, network_to_data
from skkan.exceptions import UnsafeModelError


def test_members_are_connected_only_within_their_block():
    network = KANNetwork([3, 8, 6, 2], 5, 3, ensemble_size=2, generator=torch.Generator().manual_seed(0))
    assert network.n_outputs == 1
    assert torch.all(network.layers[0].mask == 1)  # every input feeds every member
    expected = torch.zeros(8, 6)
    expected[:4, :3], expected[4:, 3:] = 1, 1
    torch.testing.assert_close(network.layers[1].mask, expected)
    x = torch.randn(5, 3)
    members = network.member_outputs(x)
    assert members.shape == (5, 2, 1)
    torch.testing.assert_close(network(x), members.mean(dim=1))
    with pytest.raises(ValueError, match="divide"):
        KANNetwork([3, 5, 2], 5, 3, ensemble_size=2)


def test_a_member_is_unaffected_by_the_others_parameters():
    network = KANNetwork([2, 4, 2], 5, 3, ensemble_size=2, generator=torch.Generator().manual_seed(1))
    x = torch.randn(6, 2)
    before = network.member_outputs(x)[:, 0].clone()
    with torch.no_grad():
        network.layers[0].spline_coef[:, 2:] += 5.0  # member 1's hidden nodes
        network.layers[1].spline_coef[2:] += 5.0
    torch.testing.assert_close(network.member_outputs(x)[:, 0], before)


@pytest.mark.parametrize(
    "loss",
    [
        Loss("squared_error"),
        Loss("absolute_error"),
        Loss("huber", delta=(0.5, 2.0)),
        Loss("quantile", quantile=0.2),
        Loss("poisson"),
        Loss("gamma"),
        Loss("log_loss"),
        Loss("binary_log_loss"),
    ],
    ids=lambda loss: loss.name,
)
def test_each_member_is_scored_on_its_own(loss):
    generator = torch.Generator().manual_seed(2)
    n_outputs = {"log_loss": 3, "binary_log_loss": 1}.get(loss.name, 2)
    members = torch.randn(7, 3, n_outputs, generator=generator, dtype=torch.float64)
    if not loss.is_classification:
        # Positive targets suit every regression loss (Gamma needs them).
        target = torch.rand(7, 2, generator=generator, dtype=torch.float64) + 0.1
    elif loss.name == "log_loss":
        target = torch.randint(0, 3, (7,), generator=generator)
    else:
        target = torch.randint(0, 2, (7,), generator=generator).to(torch.float64)
    separate = torch.stack([per_sample_loss(members[:, m], target, loss) for m in range(3)], dim=1).mean(dim=1)
    torch.testing.assert_close(per_sample_loss(members, target, loss), separate)


def test_every_member_starts_at_the_linear_model():
    generator = torch.Generator().manual_seed(3)
    network = KANNetwork([2, 6, 2], 5, 3, ensemble_size=2, generator=generator, dtype=torch.float64)
    x = torch.randn(300, 2, generator=generator, dtype=torch.float64)
    slopes = torch.tensor([[1.5], [-0.5]], dtype=torch.float64)
    intercept = torch.tensor([0.3], dtype=torch.float64)
    start_at_linear(network, x, torch.ones(300, dtype=torch.float64), slopes, intercept)
    expected = (x @ slopes + intercept).expand(-1, 2)
    torch.testing.assert_close(network.member_outputs(x)[..., 0], expected, rtol=0, atol=1e-8)


def test_the_ensemble_size_survives_the_plain_data_form():
    network = KANNetwork([3, 8, 4], 5, 3, ensemble_size=4, generator=torch.Generator().manual_seed(0))
    data = network_to_data(network)
    loaded = network_from_data(data)
    assert loaded.ensemble_size == 4
    x = torch.randn(5, 3)
    torch.testing.assert_close(loaded(x), network(x))
    data["ensemble_size"] = 3
    with pytest.raises(UnsafeModelError, match="ensemble_size"):
        network_from_data(data)
    del data["ensemble_size"]  # written before ensembles existed: one network
    assert network_from_data(data).ensemble_size == 1


def _data(n_samples=500, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (n_samples, 3))
    return X, np.sin(X[:, 0]) + X[:, 1] * X[:, 2]


def test_a_regressor_ensemble_predicts_the_mean_of_its_members():
    X, y = _data()
    model = KANRegressor(ensemble_size=3, max_iter=5, random_state=0).fit(X, y)
    assert model.network_.widths == [3, 24, 3] and model.network_.ensemble_size == 3
    members = model.network_.member_outputs(torch.as_tensor(model.fitted_view_.standardize(X)))
    expected = members.mean(dim=1)[:, 0].detach().numpy() * model._target_scale[0] + model._target_mean[0]
    np.testing.assert_allclose(model.predict(X), expected, rtol=1e-10)
    assert model.feature_importances_.shape == (3,)
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(clone(model).fit(X, y).predict(X), model.predict(X))


def test_a_classifier_ensemble_gives_probabilities():
    X, y = _data(600)
    labels = np.digitize(y, [-0.5, 0.5])
    model = KANClassifier(ensemble_size=2, max_iter=5, random_state=0).fit(X, labels)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert model.network_.widths[-1] == 6
    assert model.score(X, labels) > 0.6


def test_formulas_and_pruning_refuse_an_ensemble_by_name():
    X, y = _data(200)
    model = KANRegressor(ensemble_size=2, max_iter=2, random_state=0).fit(X, y)
    for method in (model.symbolic_formula, model.prune, model.auto_symbolic, lambda: model.suggest_symbolic(0, 0, 0)):
        with pytest.raises(ValueError, match="ensemble_size=2"):
            method()


def test_ensemble_size_is_checked_like_an_architecture_parameter():
    X, y = _data(200)
    with pytest.raises(ValueError, match="ensemble_size"):
        KANRegressor(ensemble_size=0).fit(X, y)
    with pytest.raises(ValueError, match="multiplication_nodes"):
        KANRegressor(ensemble_size=2, multiplication_nodes=1, hidden_layer_sizes=(2,)).fit(X, y)
    model = KANRegressor(ensemble_size=2, max_iter=2, random_state=0, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="ensemble_size"):
        model.set_params(ensemble_size=3).fit(X, y)
