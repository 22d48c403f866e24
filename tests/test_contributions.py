"""Per-row contributions (predict_contributions) and their waterfall plot."""

import itertools
import math
import pickle

import matplotlib
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from skkan import KANClassifier, KANRegressor
from skkan._engine import KANNetwork
from skkan._engine.contributions import ContributionReference, edge_path_contributions


def _rows(n=160, d=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, size=(n, d))


def _regression_target(X):
    return np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2]


def _brute_force_shapley(predict, row, background):
    """Interventional Shapley values of ``predict`` at ``row``, background rows as the reference."""
    n_features = row.shape[0]

    def value(subset):
        data = background.copy()
        data[:, list(subset)] = row[list(subset)]
        return predict(data).mean()

    values = np.zeros(n_features)
    for i in range(n_features):
        others = [j for j in range(n_features) if j != i]
        for size in range(n_features):
            weight = math.factorial(size) * math.factorial(n_features - size - 1) / math.factorial(n_features)
            for subset in itertools.combinations(others, size):
                values[i] += weight * (value((*subset, i)) - value(subset))
    return values


@pytest.fixture(scope="module")
def regressor():
    X = _rows()
    return X, KANRegressor(hidden_layer_sizes=(5,), max_iter=30, random_state=0).fit(X, _regression_target(X))


def test_regressor_rows_sum_to_predictions(regressor):
    X, model = regressor
    contributions = model.predict_contributions(X)
    assert contributions.shape == (X.shape[0], X.shape[1] + 1)
    np.testing.assert_allclose(contributions.sum(axis=1), model.predict(X), rtol=1e-10, atol=1e-10)
    # The base value is one number: the mean prediction over the kept training sample.
    assert np.ptp(contributions[:, -1]) == 0
    np.testing.assert_allclose(contributions[0, -1], model.predict(X).mean(), rtol=1e-10)


def test_contributions_are_centred_on_the_training_rows(regressor):
    X, model = regressor
    # The kept sample is the whole training set here (fewer than 2000 rows), with equal weights.
    np.testing.assert_allclose(model.predict_contributions(X)[:, :-1].mean(axis=0), 0.0, atol=1e-10)


def test_a_feature_the_model_does_not_use_gets_zero():
    X = _rows()
    X[:, 3] = 0.5  # a constant feature: its edges are constant functions
    model = KANRegressor(hidden_layer_sizes=(4,), max_iter=20, random_state=0).fit(X, _regression_target(X))
    X_test = _rows(40, seed=1)
    assert np.all(model.predict_contributions(X_test)[:, 3] == 0.0)
    # A pruned feature: its first-layer edges cut. The cached reference follows the change.
    before = model.predict_contributions(X_test)
    with torch.no_grad():
        model.network_.layers[0].mask[1] = 0.0
    after = model.predict_contributions(X_test)
    assert np.all(after[:, 1] == 0.0) and np.any(before[:, 1] != 0.0)
    np.testing.assert_allclose(after.sum(axis=1), model.predict(X_test), rtol=1e-10, atol=1e-10)


def test_additive_model_gives_exact_shapley_values():
    X = _rows(60, d=3)
    y = X[:, 0] ** 2 + np.sin(3 * X[:, 1]) - X[:, 2]
    model = KANRegressor(hidden_layer_sizes=(), max_iter=30, random_state=0).fit(X, y)
    X_test = _rows(4, d=3, seed=2)
    contributions = model.predict_contributions(X_test)
    for row in range(X_test.shape[0]):
        expected = _brute_force_shapley(model.predict, X_test[row], X)
        np.testing.assert_allclose(contributions[row, :-1], expected, rtol=1e-8, atol=1e-10)


def test_agrees_with_shap_exact_explainer_on_an_additive_model():
    shap = pytest.importorskip("shap")  # in the test extra: a missing shap is an install error, not a skip
    X = _rows(50, d=3)
    y = np.cos(2 * X[:, 0]) + X[:, 1] ** 3 + X[:, 2]
    model = KANRegressor(hidden_layer_sizes=(), max_iter=30, random_state=0).fit(X, y)
    explainer = shap.explainers.Exact(model.predict, shap.maskers.Independent(X, max_samples=X.shape[0]))
    X_test = _rows(5, d=3, seed=3)
    explanation = explainer(X_test)
    contributions = model.predict_contributions(X_test)
    np.testing.assert_allclose(contributions[:, :-1], explanation.values, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(contributions[:, -1], explanation.base_values, rtol=1e-9)


def test_shap_explainer_on_predict_still_works(regressor):
    shap = pytest.importorskip("shap")
    X, model = regressor
    explainer = shap.Explainer(model.predict, X[:30])
    explanation = explainer(X[:3])
    np.testing.assert_allclose(
        explanation.values.sum(axis=1) + explanation.base_values, model.predict(X[:3]), rtol=1e-6, atol=1e-8
    )


@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier_rows_sum_to_decision_function(n_classes):
    X = _rows(150)
    y = np.digitize(X[:, 0] + X[:, 1] * X[:, 2], np.linspace(-0.5, 0.5, n_classes - 1))
    labels = np.array(["low", "mid", "high"])[y]
    model = KANClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0).fit(X, labels)
    contributions = model.predict_contributions(X[:20])
    scores = model.decision_function(X[:20])
    if n_classes == 2:
        assert contributions.shape == (20, 5)
    else:
        assert contributions.shape == (20, 5, 3)
    np.testing.assert_allclose(contributions.sum(axis=1), scores, rtol=1e-10, atol=1e-10)


def test_multi_output_regressor_ensemble_and_float32():
    X = _rows(200)
    Y = np.column_stack([_regression_target(X), X[:, 3] ** 2])
    model = KANRegressor(hidden_layer_sizes=(4,), ensemble_size=3, dtype="float32", max_iter=20, random_state=0)
    model.fit(X, Y)
    contributions = model.predict_contributions(X[:30])
    assert contributions.shape == (30, 5, 2)
    # A float32 model is explained in float64: the sums hold to float32 rounding of predict.
    np.testing.assert_allclose(contributions.sum(axis=1), model.predict(X[:30]), rtol=1e-5, atol=1e-5)


def test_product_nodes():
    X = _rows(200, d=3)
    model = KANRegressor(hidden_layer_sizes=(2,), multiplication_nodes=1, max_iter=20, random_state=0)
    model.fit(X, X[:, 0] * X[:, 1] + X[:, 2])
    contributions = model.predict_contributions(X[:25])
    np.testing.assert_allclose(contributions.sum(axis=1), model.predict(X[:25]), rtol=1e-10, atol=1e-10)


def test_dataframe_with_categories_and_missing_values():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "area": rng.uniform(20, 200, 300),
            "city": rng.choice(["Oslo", "Rome", "Lima"], 300),
            "age": rng.uniform(0, 80, 300),
        }
    )
    frame.loc[::9, "age"] = np.nan
    y = frame["area"] / 50 + (frame["city"] == "Rome") + np.nan_to_num(frame["age"]) / 40
    model = KANRegressor(categorical_features=["city"], max_iter=20, random_state=0).fit(frame, y)
    test = frame.iloc[:12].copy()
    test.loc[test.index[0], "city"] = "Paris"  # unknown category
    table = model.predict_contributions(test, as_frame=True)
    assert list(table.columns) == ["area", "city", "age", "base_value"]
    assert list(table.index) == list(test.index)
    np.testing.assert_allclose(table.sum(axis=1), model.predict(test), rtol=1e-10, atol=1e-10)
    # A missing age and an unknown city are explained by their learned values, as predict uses them.
    assert np.isfinite(table.to_numpy()).all()


def test_multiclass_frame_has_one_column_block_per_class():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(_rows(120, d=2), columns=["u", "v"])
    y = np.digitize(X["u"], [-0.3, 0.3])
    model = KANClassifier(hidden_layer_sizes=(3,), max_iter=15, random_state=0).fit(X, y)
    table = model.predict_contributions(X.iloc[:4], as_frame=True)
    assert list(table.columns.get_level_values("output").unique()) == ["0", "1", "2"]
    assert list(table["1"].columns) == ["u", "v", "base_value"]


def test_contributions_survive_pickle(regressor):
    X, model = regressor
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(restored.predict_contributions(X[:10]), model.predict_contributions(X[:10]))


def test_bad_input_gets_clear_errors(regressor):
    X, model = regressor
    with pytest.raises(ValueError, match="features"):
        model.predict_contributions(X[:, :2])
    with pytest.raises(ValueError, match="NaN|infinity|inf"):
        model.predict_contributions(np.full((2, 4), np.inf))
    with pytest.raises(Exception, match="not fitted"):
        KANRegressor().predict_contributions(X)


@settings(max_examples=25, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.floats(-1e6, 1e6), st.sampled_from([-1e6, 1e6, 0.0, 3.0, -3.0])), min_size=4, max_size=4
    )
)
def test_completeness_on_any_row(regressor, values):
    _, model = regressor
    row = np.array([values])
    contributions = model.predict_contributions(row)
    np.testing.assert_allclose(contributions.sum(axis=1), model.predict(row), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("extrapolation", ["constant", "continue"])
def test_rows_outside_the_training_range(extrapolation):
    X = _rows()
    model = KANRegressor(hidden_layer_sizes=(4,), extrapolation=extrapolation, max_iter=20, random_state=0)
    model.fit(X, _regression_target(X))
    far = np.array([[5.0, -7.0, 0.2, 30.0]])
    np.testing.assert_allclose(model.predict_contributions(far).sum(axis=1), model.predict(far), rtol=1e-9, atol=1e-9)


def test_engine_relevances_of_a_deep_network_with_products_sum_exactly():
    generator = torch.Generator().manual_seed(0)
    network = KANNetwork(
        [4, 5, 4, 2], 5, 3, generator=generator, dtype=torch.float64, multiplication_nodes=[0, 2, 1, 0]
    )
    background = torch.randn(300, 4, generator=generator, dtype=torch.float64)
    weights = torch.rand(300, generator=generator, dtype=torch.float64)
    x = 2 * torch.randn(50, 4, generator=generator, dtype=torch.float64)
    reference = ContributionReference(network, background, weights)
    contributions, base = edge_path_contributions(network, x, reference, budget_bytes=4096)  # many chunks
    with torch.no_grad():
        expected = network(x)
    torch.testing.assert_close(contributions.sum(dim=1) + base, expected, rtol=1e-12, atol=1e-12)
    centred, _ = edge_path_contributions(network, background, reference)
    mean = (centred * weights[:, None, None]).sum(dim=0) / weights.sum()
    torch.testing.assert_close(mean, torch.zeros_like(mean), rtol=0, atol=1e-12)


def test_waterfall_plot(regressor):
    X, model = regressor
    ax = model.plot_contributions(X, row=2, max_features=2)
    labels = [label.get_text() for label in ax.get_yticklabels()]
    assert len(labels) == 3 and labels[-1] == "2 other features"
    widths = [patch.get_width() for patch in ax.patches]
    row = model.predict_contributions(X[2:3])[0]
    np.testing.assert_allclose(sum(widths), row[:-1].sum(), rtol=1e-9, atol=1e-12)
    plt.close("all")


@pytest.fixture(scope="module")
def three_classes():
    X = _rows(90, d=2)
    return X, KANClassifier(hidden_layer_sizes=(3,), max_iter=10, random_state=0).fit(
        X, np.digitize(X[:, 0], [-0.3, 0.3])
    )


def test_waterfall_plot_needs_a_class_for_multiclass(three_classes):
    X, model = three_classes
    with pytest.raises(ValueError, match="classes"):
        model.plot_contributions(X)
    ax = model.plot_contributions(X, row=1, output=2)
    assert "class 2" in ax.get_title()
    with pytest.raises(ValueError, match="row"):
        model.plot_contributions(X, row=500, output=2)
    plt.close("all")


# --- feature effects on the output scale ---


def test_feature_effects_of_an_additive_model_are_exact_curves():
    X = _rows(300, d=3)
    model = KANRegressor(interaction_cst="no_interactions", max_iter=20, random_state=0).fit(X, X[:, 0] ** 2 + X[:, 1])
    assert len([ax for ax in model.plot_feature_effects().axes if ax.get_visible()]) == 3
    axes = model.plot_feature_effects([0, 1, 2]).axes
    # One line per panel: the feature's contributions to the kept sample's rows, against its values.
    x_line, y_line = axes[0].lines[0].get_data()
    view = model.fitted_view_
    sample = np.column_stack([view.to_original_units(i, view.sample_inputs[:, i]) for i in range(3)])
    order = np.argsort(sample[:, 0], kind="stable")
    np.testing.assert_allclose(x_line, sample[order, 0])
    np.testing.assert_allclose(y_line, model.predict_contributions(sample)[order, 0], rtol=1e-8, atol=1e-10)
    assert "importance" in axes[0].get_title()
    plt.close("all")


def test_feature_effects_of_a_deep_model_show_the_spread_and_share_one_scale():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"a": rng.uniform(-1, 1, 400), "b": rng.uniform(-1, 1, 400), "kind": rng.choice(["p", "q"], 400)}
    )
    frame.loc[::11, "a"] = np.nan
    y = np.nan_to_num(frame["a"]) * frame["b"] + (frame["kind"] == "p")
    model = KANRegressor(categorical_features=["kind"], max_iter=20, random_state=0).fit(frame, y)
    fig = model.plot_feature_effects(["a", "kind"])
    first, second = [ax for ax in fig.axes if ax.get_visible()]
    assert first.collections  # the rows' points and the percentile band
    assert first.get_ylim() == second.get_ylim()
    plt.close("all")


def test_feature_effects_need_a_class_for_multiclass(three_classes):
    _, model = three_classes
    with pytest.raises(ValueError, match="classes"):
        model.plot_feature_effects()
    assert model.plot_feature_effects(output=1) is not None
    plt.close("all")


def test_plot_features_fades_edges_by_global_importance():
    X = _rows(300, d=3)
    model = KANRegressor(hidden_layer_sizes=(3,), ensemble_size=1, lamb=1e-3, max_iter=30, random_state=0)
    model.fit(X, np.sin(3 * X[:, 0]))  # x1 and x2 do not matter
    fig = model.plot_features([0, 2])
    strongest = max(line.get_alpha() for line in fig.axes[0].lines)
    weakest = max(line.get_alpha() for line in fig.axes[1].lines)
    assert strongest > 0.9 and weakest < 0.5
    assert fig.axes[1].get_title().startswith("x2: importance")
    plt.close("all")


def test_a_node_that_does_not_move_still_passes_its_inputs_shares_on():
    # Two inputs whose changes cancel at the hidden node: its deviation is zero, yet each input carries one.
    from skkan._engine.linear_start import start_at_linear

    generator = torch.Generator().manual_seed(0)
    network = KANNetwork([2, 1, 1], 5, 3, generator=generator, dtype=torch.float64)
    background = torch.tensor([[-1.0, 1.0], [1.0, -1.0], [0.5, 0.5], [-0.5, -0.5]], dtype=torch.float64)
    weights = torch.ones(4, dtype=torch.float64)
    start_at_linear(network, background, weights, torch.ones(2, 1, dtype=torch.float64), torch.zeros(1))
    with torch.no_grad():
        network.layers[1].spline_coef.mul_(-2.0)  # a non-trivial outer edge
    reference = ContributionReference(network, background, weights)
    x = torch.tensor([[0.75, -0.75]], dtype=torch.float64)
    contributions, base = edge_path_contributions(network, x, reference)
    with torch.no_grad():
        expected = network(x)
    torch.testing.assert_close(contributions.sum(dim=1) + base, expected, rtol=0, atol=1e-14)
    assert contributions[0, 0, 0] == pytest.approx(-contributions[0, 1, 0], rel=1e-9)
    assert abs(float(contributions[0, 0, 0])) > 0.1
