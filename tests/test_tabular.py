"""Missing values, categorical features and class weights (issue 15)."""

import inspect

import numpy as np
import pytest
import torch
from sklearn.utils.class_weight import compute_sample_weight

from skkan import KANClassifier, KANRegressor
from skkan._base import _BaseKAN
from skkan._engine import KANNetwork
from skkan._engine.tabular import attach_tabular_edges, fill_unobserved_values, record_missing_inputs

pd = pytest.importorskip("pandas")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.default_rng(0)
N = 240
X_NUM = RNG.normal(size=(N, 2))
COLOURS = RNG.choice(["red", "green", "blue"], size=N)
EFFECT = {"red": 1.0, "green": -1.0, "blue": 0.0}
Y = X_NUM[:, 0] + np.array([EFFECT[c] for c in COLOURS])


def _exact(cls=KANRegressor, **params):
    """A small deterministic float64 L-BFGS estimator."""
    defaults = dict(
        hidden_layer_sizes=(),
        max_iter=4,
        optimizer="lbfgs",
        early_stopping=False,
        dtype="float64",
        random_state=0,
    )
    return cls(**{**defaults, **params})


def _frame(colours=COLOURS, x=X_NUM):
    return pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "colour": pd.Categorical(colours)})


# ----------------------------------------------------------------------
# Engine
# ----------------------------------------------------------------------
def _tabular_network(n_categories=(0, 0, 3)):
    network = KANNetwork([3, 2, 1], 4, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    attach_tabular_edges(network, n_categories)
    with torch.no_grad():
        network.layers[0].tabular.missing_value.normal_(generator=torch.Generator().manual_seed(1))
        network.layers[0].tabular.category_value.normal_(generator=torch.Generator().manual_seed(2))
    return network


def test_lookup_tables_start_spread_as_one_hot_edges_would():
    def tables(n_categories, seed):
        network = KANNetwork([4, 6, 1], 4, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        return attach_tabular_edges(network, n_categories, generator=generator).layers[0].tabular.category_value

    values = tables((0, 2, 0, 401), seed=0)
    assert torch.equal(tables((0, 2, 0, 401), seed=None), torch.zeros_like(values))  # no generator: zeros
    assert torch.equal(values, tables((0, 2, 0, 401), seed=0))  # reproducible
    assert not torch.equal(values, tables((0, 2, 0, 401), seed=1))
    assert not values[[0, 2]].any()  # numeric inputs have no table to start
    # Every hidden node gets different values (no symmetry to break in training),
    # spread as sqrt(K - 1) / sqrt(3 * n_inputs): 1/sqrt(12) for 2 categories, 20/sqrt(12) for 401.
    assert torch.unique(values[3, :, 0]).numel() == 6
    spread = values[3].std().item() * np.sqrt(12)
    assert 18 < spread < 22
    assert 0.5 < values[1, :, :2].std().item() * np.sqrt(12) < 2


def test_nan_never_reaches_the_spline_and_edges_sum_to_the_output():
    network = _tabular_network()
    layer = network.layers[0]
    x = torch.tensor(
        [[0.3, float("nan"), 2.0], [float("nan"), 1.0, float("nan")], [0.1, 0.2, 7.0]], dtype=torch.float64
    )
    output = layer(x)
    output.sum().backward()
    assert torch.isfinite(output).all()
    for parameter in layer.parameters():
        assert parameter.grad is None or torch.isfinite(parameter.grad).all()
    edges = layer.edge_activations(x)
    torch.testing.assert_close(edges.sum(dim=1) + layer.bias, output)
    tabular = layer.tabular
    # Missing entries read the learned missing value; codes read the table; code 7 is unknown (slot 3).
    torch.testing.assert_close(edges[0, 1], tabular.missing_value[1])
    torch.testing.assert_close(edges[1, 2], tabular.missing_value[2])
    torch.testing.assert_close(edges[0, 2], tabular.category_value[2, :, 2])
    torch.testing.assert_close(edges[2, 2], tabular.category_value[2, :, 3])
    # Present numeric entries are the ordinary spline edge.
    torch.testing.assert_close(edges[0, 0], layer.numeric_edge_activations(x.nan_to_num())[0, 0])


def test_unobserved_values_are_the_edge_means():
    network = _tabular_network()
    x = torch.tensor([[0.5, 0.1, 0.0], [-0.5, float("nan"), 1.0], [0.2, 0.3, 1.0]], dtype=torch.float64)
    weights = torch.tensor([1.0, 2.0, 1.0], dtype=torch.float64)
    record_missing_inputs(network, x)
    learned = network.layers[0].tabular.missing_value[1].detach().clone()
    fill_unobserved_values(network, x, weights)
    tabular, edges = network.layers[0].tabular, network.layers[0].edge_activations(x).detach()
    mean = (weights[:, None, None] * edges).sum(0) / weights.sum()
    torch.testing.assert_close(tabular.missing_value[0].detach(), mean[0])
    torch.testing.assert_close(tabular.missing_value[1].detach(), learned)  # missing in x: kept
    # Unknown category: the frequency-weighted mean of the known ones.
    torch.testing.assert_close(tabular.category_value[2, :, 3].detach(), mean[2])


# ----------------------------------------------------------------------
# Missing values
# ----------------------------------------------------------------------
def test_missing_values_are_learned():
    x = X_NUM.copy()
    missing = RNG.random(N) < 0.3
    x[missing, 1] = np.nan
    # Missing rows have their own level, far from what any present value gives.
    y = x[:, 0] + np.where(missing, 3.0, np.nan_to_num(0.5 * x[:, 1]))
    reg = _exact().fit(x, y)
    assert reg.__sklearn_tags__().input_tags.allow_nan
    view = reg.fitted_view_
    assert view.missing_learned.tolist() == [False, True]
    assert np.abs(reg.predict(x)[missing] - y[missing]).mean() < 0.1
    assert reg.score(x, y) > 0.99


def test_missing_at_predict_time_only_gets_the_edge_mean():
    reg = _exact().fit(X_NUM, Y)
    view = reg.fitted_view_
    assert not view.missing_learned.any()
    layer = view.network.layers[0]
    with torch.no_grad():
        mean_edge = float(layer.edge_activations(torch.as_tensor(view.sample_inputs))[:, 1, 0].mean())
        at_mean = float(layer.edge_activations(torch.zeros(1, 2, dtype=torch.float64))[0, 1, 0])
    x_missing, x_at_mean = X_NUM[:5].copy(), X_NUM[:5].copy()
    x_missing[:, 1], x_at_mean[:, 1] = np.nan, view.input_mean[1]
    # The additive model then predicts the training-average contribution of feature 1.
    difference = reg.predict(x_missing) - reg.predict(x_at_mean)
    np.testing.assert_allclose(difference, (mean_edge - at_mean) * view.target_scale[0], atol=1e-8)
    assert abs(mean_edge - at_mean) > 1e-3


def test_infinity_is_still_refused():
    reg = _exact(max_iter=2)
    x = X_NUM.copy()
    x[3, 0] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        reg.fit(x, Y)
    reg.fit(X_NUM, Y)
    with pytest.raises(ValueError, match="Input X contains infinity"):
        reg.predict(x)


# ----------------------------------------------------------------------
# Categorical features
# ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def from_dtype_model():
    return _exact(categorical_features="from_dtype").fit(_frame(), Y)


@pytest.mark.parametrize(
    "spec", ["from_dtype", ["colour"], [2], np.array([False, False, True])], ids=["dtype", "name", "index", "mask"]
)
def test_every_way_to_name_categorical_features_gives_the_same_model(spec, from_dtype_model):
    reference = from_dtype_model
    reg = _exact(categorical_features=spec).fit(_frame(), Y)
    assert reg.is_categorical_.tolist() == [False, False, True]
    assert reg.categories_[2].tolist() == ["blue", "green", "red"]
    np.testing.assert_array_equal(reg.predict(_frame()), reference.predict(_frame()))


def test_strings_in_arrays_and_pandas_categories_agree(from_dtype_model):
    array = np.column_stack([X_NUM, COLOURS]).astype(object)
    from_strings = _exact(categorical_features=[2]).fit(array, Y)
    from_pandas = from_dtype_model
    # The two routes give the same values in C and Fortran order, whose column statistics numpy sums
    # in different orders (1e-17 apart); four L-BFGS steps amplify that to a few 1e-9.
    np.testing.assert_allclose(from_strings.predict(array), from_pandas.predict(_frame()), rtol=1e-6, atol=1e-7)
    # The categories are learned: the lookup table recovers the effects up to a constant.
    assert from_pandas.score(_frame(), Y) > 0.99
    values = from_pandas.fitted_view_.category_values(2)[:3, 0] * from_pandas.fitted_view_.target_scale[0]
    np.testing.assert_allclose(values - values[0], [0.0, -1.0, 1.0], atol=0.05)  # blue, green, red


def test_integer_categories_and_unknown_ones():
    codes = RNG.integers(0, 4, size=N)
    y = X_NUM[:, 0] + np.array([0.0, 2.0, -2.0, 1.0])[codes]
    x = np.column_stack([X_NUM[:, 0], codes])
    reg = _exact(categorical_features=[1]).fit(x, y)
    assert reg.categories_[1].tolist() == [0.0, 1.0, 2.0, 3.0]
    view = reg.fitted_view_
    values = view.category_values(1)[:, 0]
    counts = np.bincount(codes, minlength=4)
    # An unknown category gets the frequency-weighted mean of the known ones.
    np.testing.assert_allclose(values[-1], np.average(values[:4], weights=counts), atol=1e-10)
    unknown = reg.predict(np.array([[0.2, 9.0], [0.2, -1.0]]))
    np.testing.assert_allclose(unknown[0], unknown[1])
    assert np.all(np.isfinite(unknown))


def test_missing_category_is_a_missing_value():
    colours = COLOURS.astype(object)
    colours[:40] = None
    frame = _frame(colours)
    reg = _exact(categorical_features="from_dtype").fit(frame, Y)
    assert reg.fitted_view_.missing_learned.tolist() == [False, False, True]
    frame_nan = frame.copy()
    frame_nan["colour"] = frame_nan["colour"].astype(object).where(frame_nan["colour"].notna(), np.nan)
    np.testing.assert_allclose(reg.predict(frame_nan), reg.predict(frame))


def test_categorical_edges_count_in_importances():
    noise = RNG.normal(size=N)
    frame = _frame(x=np.column_stack([noise * 0.0 + RNG.normal(size=N), X_NUM[:, 1]]))
    y = np.array([EFFECT[c] for c in COLOURS]) * 3
    reg = _exact(categorical_features="from_dtype").fit(frame, y)
    importances = reg.feature_importances_
    assert importances[2] > 0.8


@pytest.mark.parametrize(
    "spec, data, message",
    [
        (["size"], "frame", r"names \['size'\] are not columns"),
        (["colour"], "array", "need X with feature names"),
        ([5], "frame", r"indices must be in \[0, 2\]"),
        ([True, False], "frame", "one entry per feature"),
        (None, "frame", r"column\(s\) 'colour' of X contain non-numeric.*categorical_features"),
        ([0], "array", "column 2 of X, which is not in categorical_features"),
    ],
)
def test_bad_categorical_specs_give_clear_errors(spec, data, message):
    X = _frame() if data == "frame" else np.column_stack([X_NUM, COLOURS]).astype(object)
    reg = _exact(categorical_features=spec, max_iter=1)
    with pytest.raises(ValueError, match=message):
        reg.fit(X, Y)
    assert not hasattr(reg, "n_features_in_")


def test_numeric_categories_refuse_strings_at_predict_time():
    x = np.column_stack([X_NUM[:, 0], RNG.integers(0, 3, size=N)])
    reg = _exact(categorical_features=[1], max_iter=2).fit(x, Y)
    with pytest.raises(ValueError, match="fitted on numeric categories but got non-numeric"):
        reg.predict(np.array([[0.0, "a"]], dtype=object))


def test_too_many_categories_are_refused():
    x = np.column_stack([np.arange(1100.0), np.arange(1100.0)])
    with pytest.raises(ValueError, match="1100 categories; at most 1024"):
        _exact(categorical_features=[1], max_iter=1).fit(x, x[:, 0])


# ----------------------------------------------------------------------
# Class weights
# ----------------------------------------------------------------------
# Noisy labels: an unweighted fit under-predicts the rare class.
Y_IMBALANCED = (X_NUM[:, 0] + 0.8 * X_NUM[:, 1] + RNG.normal(size=N) > 1.8).astype(int)


def test_class_weight_equals_sample_weight():
    balanced = _exact(KANClassifier, class_weight="balanced").fit(X_NUM, Y_IMBALANCED)
    by_hand = _exact(KANClassifier).fit(
        X_NUM, Y_IMBALANCED, sample_weight=compute_sample_weight("balanced", Y_IMBALANCED)
    )
    np.testing.assert_allclose(balanced.predict_proba(X_NUM), by_hand.predict_proba(X_NUM), atol=1e-12)


def test_class_weight_multiplies_sample_weight():
    rng = np.random.default_rng(12)
    sample_weight = rng.uniform(0.5, 2.0, size=N) * 1e30
    weighted = _exact(KANClassifier, class_weight={0: 1.0, 1: 4.0}).fit(X_NUM, Y_IMBALANCED, sample_weight)
    by_hand = _exact(KANClassifier).fit(X_NUM, Y_IMBALANCED, sample_weight * np.where(Y_IMBALANCED == 1, 4.0, 1.0))
    # Both paths normalise the same products once (the sample weights are
    # first rescaled by a power of two, which is exact), so the fits see the
    # same weights bit for bit and agree exactly, even though L-BFGS
    # can amplify a last-bit difference in the weights to a few 1e-2.
    np.testing.assert_array_equal(weighted.predict_proba(X_NUM), by_hand.predict_proba(X_NUM))


def test_balanced_class_weight_raises_minority_recall():
    plain = _exact(KANClassifier).fit(X_NUM, Y_IMBALANCED)
    balanced = _exact(KANClassifier, class_weight="balanced").fit(X_NUM, Y_IMBALANCED)
    minority = Y_IMBALANCED == 1
    assert minority.mean() < 0.25
    assert balanced.predict(X_NUM)[minority].mean() > plain.predict(X_NUM)[minority].mean() + 0.1


def test_classifier_signature_is_the_shared_one_plus_class_weight():
    shared = dict(inspect.signature(_BaseKAN.__init__).parameters)
    own = dict(inspect.signature(KANClassifier.__init__).parameters)
    assert own.pop("class_weight").default is None
    assert [(p.name, p.kind, p.default) for p in own.values()] == [(p.name, p.kind, p.default) for p in shared.values()]


def test_snapping_keeps_missing_values_and_skips_categorical_edges():
    x = X_NUM.copy()
    x[::5, 0] = np.nan
    frame = _frame(x=x)
    reg = _exact(categorical_features="from_dtype").fit(frame, np.nan_to_num(Y))
    view = reg.fitted_view_
    missing, categories = view.missing_values, view.category_values(2)
    reg.auto_symbolic(r2_threshold=0.0, max_iter=0)
    view = reg.fitted_view_
    assert {(0, 0), (1, 0)} <= set(view.symbolic_edges(0)) and (2, 0) not in view.symbolic_edges(0)
    np.testing.assert_array_equal(view.missing_values, missing)
    np.testing.assert_array_equal(view.category_values(2), categories)
    assert np.all(np.isfinite(reg.predict(frame)))


def test_plots_show_missing_values_and_categories():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skkan.interpret import plot_edge, plot_features

    x = X_NUM.copy()
    x[::4, 0] = np.nan
    reg = _exact(categorical_features="from_dtype").fit(_frame(x=x), np.nan_to_num(Y))
    ax = plot_edge(reg, 0, 0, 0)
    marker = [line for line in ax.get_lines() if line.get_label() == "missing (NaN)"][0]
    assert marker.get_ydata()[0] == pytest.approx(reg.fitted_view_.missing_values[0, 0])
    assert np.all(np.isfinite(ax.get_lines()[0].get_ydata()))  # the curve ignores missing inputs
    ax = plot_edge(reg, 0, 2, 0)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), reg.fitted_view_.category_values(2)[:, 0])
    fig = plot_features(reg)
    assert len(fig.axes) == 3
    plt.close("all")


def test_parameter_count_follows_the_tabular_edges(from_dtype_model):
    reg = from_dtype_model  # 3 inputs -> 1 output; input 2 categorical with 3 categories, no NaN
    per_spline_edge = reg.network_.layers[0].spline_coef.shape[-1] + 2
    assert reg.n_params_ == 2 * per_spline_edge + 3 + 1
    x = X_NUM.copy()
    x[::3, 1] = np.nan
    with_missing = _exact(categorical_features="from_dtype", max_iter=1).fit(_frame(x=x), Y)
    assert with_missing.n_params_ == reg.n_params_ + 1
