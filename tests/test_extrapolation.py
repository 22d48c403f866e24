"""extrapolation="constant": inputs beyond the training range are held at its edges."""

import pickle

import numpy as np
import pytest

from skkan import KANClassifier, KANRegressor


def _range(model):
    """The fitted inputs' standardised training range, shape (2, n_features)."""
    return model.fitted_view_.input_encoding["input_range"]


def _linear_data(n_samples=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n_samples, 2))
    return X, 3.0 * X[:, 0] + X[:, 1]


def _fit(estimator_class=KANRegressor, **params):
    X, y = _linear_data()
    if estimator_class is KANClassifier:
        y = y > 0
    params = {"hidden_layer_sizes": (2,), "max_iter": 5, "random_state": 0, **params}
    return estimator_class(**params).fit(X, y), X


def test_predictions_are_constant_beyond_the_training_range():
    model, X = _fit()
    low, high = X.min(axis=0), X.max(axis=0)
    far = np.array([[high[0] + 50.0, 0.0], [low[0] - 1e6, 0.0], [high[0], 0.0], [low[0], 0.0]])
    predictions = model.predict(far)
    np.testing.assert_allclose(predictions[0], predictions[2], rtol=0, atol=1e-12)
    np.testing.assert_allclose(predictions[1], predictions[3], rtol=0, atol=1e-12)
    # Inside the range nothing changes: the same as evaluating the edges as they are.
    inside = X[:20]
    np.testing.assert_array_equal(model.predict(inside), model.set_params(extrapolation="continue").predict(inside))


def test_continue_evaluates_the_edges_beyond_the_range():
    # A random start: the SiLU residuals carry a line beyond the grid (a linear start begins without them).
    model, X = _fit(extrapolation="continue", init="random")
    high = X.max(axis=0)
    # The target is linear and the SiLU residual continues: a far input moves the prediction.
    beyond = model.predict(np.array([[high[0] + 5.0, 0.0], [high[0], 0.0]]))
    assert abs(beyond[0] - beyond[1]) > 1.0
    # The parameter is read at prediction time: no refit needed to switch.
    held = model.set_params(extrapolation="constant").predict(np.array([[high[0] + 5.0, 0.0], [high[0], 0.0]]))
    assert held[0] == pytest.approx(held[1], abs=1e-12)


def test_one_faulty_test_value_cannot_send_a_prediction_far_away():
    # A faulty reading far outside the training data (nyc_weather's 1,048 mph wind speed): the
    # default holds it at the range's edge, so the prediction stays among the training targets.
    X, y = _linear_data()
    model = KANRegressor(hidden_layer_sizes=(2,), max_iter=5, random_state=0).fit(X, y)
    faulty = np.array([[1000.0, 0.0], [-1000.0, 0.5]])
    assert np.all(np.abs(model.predict(faulty)) <= np.abs(y).max() + 1.0)


def test_missing_values_and_categories_are_not_clipped():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(-1, 1, 300), rng.integers(0, 3, 300).astype(float)])
    X[::10, 0] = np.nan
    y = np.nan_to_num(X[:, 0]) + (X[:, 1] == 2)
    model = KANRegressor(hidden_layer_sizes=(2,), max_iter=5, random_state=0, categorical_features=[1]).fit(X, y)
    limits = _range(model)
    assert np.isnan(limits[:, 1]).all()  # the categorical input has no limits
    assert np.isfinite(limits[:, 0]).all()
    # A missing value stays missing (its learned value), a new category gets the unseen-category value.
    rows = np.array([[np.nan, 0.0], [np.nan, 7.0]])
    np.testing.assert_array_equal(model.predict(rows), model.set_params(extrapolation="continue").predict(rows))


def test_zero_weight_rows_do_not_widen_the_range():
    X, y = _linear_data()
    weights = np.ones(len(X))
    X_wide = np.vstack([X, [[40.0, 0.0]]])
    y_wide = np.append(y, 0.0)
    model = KANRegressor(hidden_layer_sizes=(2,), max_iter=5, random_state=0)
    model.fit(X_wide, y_wide, sample_weight=np.append(weights, 0.0))
    view = model.fitted_view_
    assert _range(model)[1, 0] == pytest.approx((X[:, 0].max() - view.input_mean[0]) / view.input_scale[0])


def test_partial_fit_and_warm_start_widen_the_range():
    X, y = _linear_data()
    model = KANRegressor(hidden_layer_sizes=(2,), random_state=0)
    model.partial_fit(X[:100] * 0.5, y[:100])
    first = _range(model).copy()
    model.partial_fit(X[100:], y[100:])
    assert np.all(_range(model)[0] <= first[0]) and np.all(_range(model)[1] >= first[1])
    assert np.any(_range(model) != first)

    warm = KANRegressor(hidden_layer_sizes=(2,), max_iter=2, random_state=0, warm_start=True).fit(X * 0.5, y)
    before = _range(warm).copy()
    warm.fit(X, y)
    assert np.all(_range(warm)[1] >= before[1]) and np.any(_range(warm) != before)


def test_classifier_holds_inputs_too_and_the_range_survives_pickling():
    model, X = _fit(KANClassifier)
    high = X.max(axis=0)
    far = np.array([[high[0] + 100.0, 0.3], [high[0], 0.3]])
    proba = model.predict_proba(far)
    np.testing.assert_allclose(proba[0], proba[1], atol=1e-12)
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(_range(loaded), _range(model))
    np.testing.assert_array_equal(loaded.predict_proba(far), proba)


def test_a_bad_extrapolation_value_is_refused_by_name():
    X, y = _linear_data(20)
    with pytest.raises(ValueError, match="extrapolation"):
        KANRegressor(extrapolation="linear").fit(X, y)


def test_a_tampered_range_is_refused_on_loading():
    from skkan.exceptions import UnsafeModelError

    model, _ = _fit()
    state = model.__getstate__()
    state["_input_encoding"]["__skkan_input_encoding__"]["input_range"] = np.zeros((3, 1))
    with pytest.raises(UnsafeModelError, match="input_range"):
        KANRegressor().__setstate__(state)
