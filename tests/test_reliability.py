"""Reliability (issue 12): training starts at the weighted prior; results across thread counts."""

import numpy as np
import pytest
import torch

from skkan import KANClassifier, KANRegressor
from skkan._engine import KANNetwork

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_start_at_prior_sets_the_weighted_mean_output():
    generator = torch.Generator().manual_seed(0)
    network = KANNetwork([3, 4, 2], grid_size=5, spline_order=3, generator=generator, dtype=torch.float64)
    x = torch.randn(50, 3, generator=generator, dtype=torch.float64)
    weights = torch.rand(50, generator=generator, dtype=torch.float64)
    prior = torch.tensor([-16.0, 2.5], dtype=torch.float64)
    before = network(x)
    network.start_at_prior(x, weights, prior)
    after = network(x)
    torch.testing.assert_close(weights @ after / weights.sum(), prior, rtol=0, atol=1e-12)
    # Only the constant moves: the variation around it is the random initial network's.
    torch.testing.assert_close(after - after.mean(0), before - before.mean(0), rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("y", "weight", "expected"),
    [
        (np.array([0.0, 0.0, 0.0, 1.0]), np.ones(4), [np.log(1 / 3)]),
        (np.array([0.0, 1.0]), np.array([1000.0, 1e-4]), [np.log(1e-7)]),
        (np.array([0, 1, 2, 2]), np.ones(4), np.log([0.25, 0.25, 0.5]) - np.log([0.25, 0.25, 0.5]).mean()),
    ],
)
def test_classifier_prior_is_the_logit_of_the_weighted_class_frequencies(y, weight, expected):
    n_outputs = 1 if y.dtype == np.float64 else 3
    prior = KANClassifier()._output_prior(y, weight, n_outputs)
    np.testing.assert_allclose(prior, expected, rtol=1e-12)


def test_regressor_prior_is_the_weighted_target_mean():
    targets = np.array([[0.0, 1.0], [2.0, 3.0]])
    prior = KANRegressor()._output_prior(targets, np.array([1.0, 3.0]), 2)
    np.testing.assert_allclose(prior, [1.5, 2.5])


def test_extreme_class_weights_predict_the_heavy_class():
    # scikit-learn's check_class_weight_classifiers in miniature: noisy
    # overlapping classes and a 1e7 weight ratio. The weighted optimum puts
    # every point in the heavy class; the fit starts there and stays.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] + rng.normal(size=60) > 0).astype(int)
    clf = KANClassifier(hidden_layer_sizes=(2,), max_iter=3, class_weight={0: 1000, 1: 1e-4}, random_state=0)
    clf.fit(X, y)
    assert np.all(clf.predict(X) == 0)
