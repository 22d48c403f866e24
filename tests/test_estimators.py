"""KANRegressor and KANClassifier as scikit-learn estimators in real workflows."""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris, make_classification
from sklearn.impute import SimpleImputer
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skkan import KANClassifier, KANRegressor


def _smooth_regression(n_samples=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n_samples, 3))
    y = np.sin(np.pi * X[:, 0]) + X[:, 1] ** 2 + 0.1 * X[:, 2]
    return X, y


def test_regressor_fits_a_smooth_function_accurately():
    X, y = _smooth_regression(300)
    model = KANRegressor(hidden_layer_sizes=(4,), early_stopping=False, max_iter=10, random_state=0).fit(X, y)
    assert model.optimizer_ == "lbfgs"
    X_test, y_test = _smooth_regression(200, seed=1)
    assert model.score(X_test, y_test) > 0.99
    assert model.n_features_in_ == 3
    assert model.n_iter_ == len(model.loss_curve_) >= 1
    assert model.best_loss_ == min(model.loss_curve_)
    assert model.device_ == "cpu"
    # Without missing values or categories in training, the first layer's
    # missing-value and category tables are not learned and do not count.
    splines = [p for name, p in model.network_.named_parameters() if ".tabular." not in name]
    assert model.n_params_ == sum(p.numel() for p in splines)


def test_defaults_use_early_stopping_with_lbfgs_once_the_validation_split_can_judge():
    X, y = _smooth_regression(300)  # a 30-row validation split: the smallest that turns it on
    model = KANRegressor(hidden_layer_sizes=(2,), max_iter=2, random_state=0).fit(X, y)
    assert model.early_stopping_ and model.optimizer_ == "lbfgs"
    assert len(model.validation_scores_) == model.n_iter_
    assert model.best_validation_score_ == max(model.validation_scores_)
    assert model.best_loss_ is None
    small = KANRegressor(hidden_layer_sizes=(2,), max_iter=2, random_state=0).fit(X[:50], y[:50])
    assert not small.early_stopping_ and small.optimizer_ == "lbfgs"
    assert small.validation_scores_ is None and small.best_validation_score_ is None


def test_multioutput_regression_predicts_every_target():
    X, y = _smooth_regression(150)
    Y = np.column_stack([y, -2 * y + 5])
    model = KANRegressor(hidden_layer_sizes=(4,), early_stopping=False, max_iter=8, random_state=0).fit(X, Y)
    prediction = model.predict(X)
    assert prediction.shape == (150, 2)
    assert model.score(X, Y) > 0.95
    single = KANRegressor(max_iter=2, random_state=0).fit(X, y[:, None])
    # A 2-D target with one column keeps its shape, as in LinearRegression.
    assert single.predict(X).shape == (150, 1)


def test_binary_classifier_with_string_labels():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    labels = np.where(y == 1, "spam", "ham")
    model = KANClassifier(max_iter=10, random_state=0).fit(X, labels)
    np.testing.assert_array_equal(model.classes_, ["ham", "spam"])
    assert set(model.predict(X)) <= {"ham", "spam"}
    assert model.score(X, labels) > 0.85
    proba = model.predict_proba(X)
    assert proba.shape == (200, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.exp(model.predict_log_proba(X)), proba, rtol=1e-6)
    decision = model.decision_function(X)
    assert decision.shape == (200,)
    np.testing.assert_array_equal(model.predict(X), model.classes_[(decision > 0).astype(int)])


def test_multiclass_classifier_on_iris():
    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    model = KANClassifier(hidden_layer_sizes=(4,), early_stopping=False, max_iter=20, random_state=0)
    model.fit(X_train, y_train)
    assert model.score(X_test, y_test) > 0.9
    assert model.predict_proba(X_test).shape == (len(X_test), 3)
    assert model.decision_function(X_test).shape == (len(X_test), 3)
    np.testing.assert_array_equal(model.predict(X_test), model.predict_proba(X_test).argmax(axis=1))


@pytest.mark.slow
def test_grid_search_over_kan_hyperparameters_in_a_pipeline():
    X, y = _smooth_regression(80)
    pipeline = Pipeline([("scale", StandardScaler()), ("kan", KANRegressor(max_iter=3, random_state=0))])
    # Two candidates that differ in all three hyperparameters, fitted in two
    # worker processes (joblib's default loky backend pickles the pipeline).
    grid = [
        {"kan__grid_size": [3], "kan__hidden_layer_sizes": [(2,)], "kan__lamb": [0.0]},
        {"kan__grid_size": [5], "kan__hidden_layer_sizes": [(4,)], "kan__lamb": [1e-3]},
    ]
    search = GridSearchCV(pipeline, grid, cv=2, n_jobs=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    best = search.best_estimator_.named_steps["kan"]
    assert (best.grid_size, best.hidden_layer_sizes, best.lamb) in [(3, (2,), 0.0), (5, (4,), 1e-3)]
    assert best.network_.layers[0].grid_size == best.grid_size


def test_cross_val_score_and_clone():
    X, y = make_classification(n_samples=120, n_features=4, n_informative=3, n_redundant=0, random_state=1)
    model = KANClassifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0)
    scores = cross_val_score(model, X, y, cv=3)
    assert scores.shape == (3,) and np.all(scores > 0.6)
    fitted = clone(model).fit(X, y)
    copy = clone(fitted)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "network_")


@pytest.mark.parametrize("dump, load", [(pickle.dumps, pickle.loads), ("joblib", "joblib")])
def test_pickle_and_joblib_round_trip_keep_predictions(dump, load, tmp_path):
    X, y = _smooth_regression(100)
    model = KANRegressor(max_iter=5, random_state=0).fit(X, y)
    if dump == "joblib":
        path = tmp_path / "model.joblib"
        joblib.dump(model, path)
        restored = joblib.load(path)
    else:
        restored = load(dump(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_pandas_input_and_set_output_upstream():
    pd = pytest.importorskip("pandas")
    X, y = _smooth_regression(120)
    frame = pd.DataFrame(X, columns=["age", "income", "height"])
    frame.loc[3, "income"] = np.nan
    preprocess = ColumnTransformer(
        [("num", make_pipeline(SimpleImputer(), StandardScaler()), ["age", "income", "height"])]
    )
    pipeline = make_pipeline(preprocess, KANRegressor(max_iter=5, random_state=0)).set_output(transform="pandas")
    pipeline.fit(frame, y)
    kan = pipeline[-1]
    np.testing.assert_array_equal(kan.feature_names_in_, ["num__age", "num__income", "num__height"])
    assert np.all(np.isfinite(pipeline.predict(frame)))
    direct = KANRegressor(max_iter=5, random_state=0).fit(frame.fillna(0.0), y)
    np.testing.assert_array_equal(direct.feature_names_in_, ["age", "income", "height"])
    with pytest.warns(UserWarning, match="feature names"):
        direct.predict(X)


def test_inputs_far_outside_the_training_range_give_finite_bounded_predictions():
    X, y = _smooth_regression(150)
    model = KANRegressor(hidden_layer_sizes=(4,), early_stopping=False, max_iter=10, random_state=0).fit(X, y)
    far = np.array([[1e6, -1e6, 3.0], [50.0, 0.0, -50.0], [-1e12, 1e12, 0.0]])
    prediction = model.predict(far)
    assert np.all(np.isfinite(prediction))
    # The splines are clamped at the grid boundary and the SiLU residual grows
    # only linearly, so predictions stay within a modest multiple of the range.
    assert np.all(np.abs(model.predict(far[1:2])) < 100 * np.ptp(y))


def test_internal_scaling_makes_the_fit_invariant_to_feature_units():
    X, y = _smooth_regression(120)
    scaled = X * np.array([1e4, 1e-3, 7.0]) + np.array([5e5, -2.0, 0.0])
    params = dict(hidden_layer_sizes=(3,), early_stopping=False, max_iter=5, dtype="float64", random_state=0)
    original = KANRegressor(**params).fit(X, y).predict(X)
    rescaled = KANRegressor(**params).fit(scaled, y).predict(scaled)
    np.testing.assert_allclose(rescaled, original, atol=1e-4)


def test_random_state_makes_fits_bit_for_bit_reproducible():
    X, y = make_classification(n_samples=150, n_features=4, random_state=0)
    first = KANClassifier(max_iter=8, random_state=42).fit(X, y)
    second = KANClassifier(max_iter=8, random_state=42).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert first.loss_curve_ == second.loss_curve_
    other = KANClassifier(max_iter=8, random_state=7).fit(X, y)
    assert not np.array_equal(first.predict_proba(X), other.predict_proba(X))


def test_warm_start_continues_from_the_previous_fit():
    X, y = _smooth_regression(60)
    model = KANRegressor(max_iter=3, warm_start=True, random_state=0).fit(X, y)
    first_iterations, first_loss = model.n_iter_, model.loss_curve_[-1]
    model.fit(X, y)
    assert model.n_iter_ > first_iterations
    assert len(model.loss_curve_) == model.n_iter_
    assert model.loss_curve_[-1] <= first_loss
    with pytest.raises(ValueError, match="warm_start"):
        model.fit(X, np.column_stack([y, y]))


@pytest.mark.slow
def test_grid_extension_refines_the_grid_and_improves_the_fit():
    X, y = _smooth_regression(200)
    params = dict(hidden_layer_sizes=(2,), grid_size=3, early_stopping=False, max_iter=15, random_state=0)
    coarse = KANRegressor(**params).fit(X, y)
    refined = KANRegressor(grid_extension=(6, 12), **params).fit(X, y)
    assert coarse.network_.grid_size == 3 and refined.network_.grid_size == 12
    assert refined.score(X, y) > coarse.score(X, y)
    with pytest.raises(ValueError, match="grid_extension"):
        KANRegressor(grid_size=5, grid_extension=(4, 8)).fit(X, y)


def test_verbose_prints_progress(capsys):
    X, y = _smooth_regression(60)
    KANRegressor(max_iter=2, verbose=1, random_state=0).fit(X, y)
    captured = capsys.readouterr()
    # The engine's lines (stdout), or the progress reporter (stderr) once the loop takes a callback.
    text = captured.out + captured.err
    assert ("iteration 1" in text or "epoch 1" in text) and "loss" in text
    KANRegressor(max_iter=2, random_state=0).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out == captured.err == ""


@pytest.mark.slow
def test_sparsity_penalty_shrinks_edge_activations():
    X, y = _smooth_regression(150)
    params = dict(hidden_layer_sizes=(3,), early_stopping=False, max_iter=15, random_state=0)
    plain = KANRegressor(**params).fit(X, y)
    sparse = KANRegressor(lamb=1e-2, **params).fit(X, y)
    from skkan._engine.regularization import edge_magnitudes

    def total_magnitude(model):
        import torch

        dtype = next(model.network_.parameters()).dtype
        x = torch.as_tensor(model.fitted_view_.standardize(X), dtype=dtype)
        with torch.no_grad():
            _, inputs, edges = model.network_.forward_with_edges(x)
            weights = torch.full((x.shape[0],), 1.0 / x.shape[0], dtype=dtype)
            return sum(float(edge_magnitudes(i, e, weights).sum()) for i, e in zip(inputs, edges))

    assert total_magnitude(sparse) < total_magnitude(plain)


def test_unavailable_device_is_a_clear_error():
    X, y = _smooth_regression(30)
    with pytest.raises(ValueError, match="device"):
        KANRegressor(device="tpu").fit(X, y)
