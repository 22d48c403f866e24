"""Saving and loading: pickle, joblib, skops, device fallback, version stamp."""

import copy
import functools
import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch

from skkan import KANClassifier, KANRegressor, UnsafeModelError, __version__, get_trusted_types
from skkan._engine import KANNetwork

RNG = np.random.default_rng(0)
X = RNG.normal(size=(50, 3))
Y_REG = np.column_stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]])
Y_CLF = np.array(["cat", "dog", "emu"])[np.digitize(X[:, 0], [-0.5, 0.5])]


@functools.cache
def _fit_once(kind):
    params = {"hidden_layer_sizes": (3,), "max_iter": 4, "random_state": 0, "grid_extension": (7,)}
    if kind == "regressor":
        return KANRegressor(**params).fit(X, Y_REG)
    return KANClassifier(**params, dtype="float64").fit(X, Y_CLF)


def _fitted(kind):
    # Each test gets its own copy of one fit per kind (tests change the model they get).
    return copy.deepcopy(_fit_once(kind))


def _outputs(est):
    return est.predict_proba(X) if hasattr(est, "predict_proba") else est.predict(X)


def _assert_same_model(loaded, original):
    assert type(loaded) is type(original)
    assert loaded.get_params() == original.get_params()
    np.testing.assert_array_equal(_outputs(loaded), _outputs(original))
    original_state = original.network_.state_dict()
    loaded_state = loaded.network_.state_dict()
    assert original_state.keys() == loaded_state.keys()
    for name, tensor in original_state.items():
        assert loaded_state[name].dtype == tensor.dtype
        torch.testing.assert_close(loaded_state[name], tensor, rtol=0, atol=0)
    assert loaded.network_.grid_size == original.network_.grid_size == 7


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_pickle_and_joblib_round_trip(kind, tmp_path):
    est = _fitted(kind)
    _assert_same_model(pickle.loads(pickle.dumps(est)), est)
    joblib.dump(est, tmp_path / "model.joblib")
    _assert_same_model(joblib.load(tmp_path / "model.joblib"), est)


def _assert_torch_free(value):
    assert not isinstance(value, (torch.Tensor, torch.nn.Module, torch.dtype, torch.device)), type(value)
    if isinstance(value, dict):
        for item in value.values():
            _assert_torch_free(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _assert_torch_free(item)


def test_saved_state_holds_no_torch_objects():
    _assert_torch_free(_fitted("regressor").__getstate__())


def test_snapped_and_pruned_edges_survive():
    reg = _fitted("regressor")
    reg.fix_symbolic(0, 1, 0, "sin")
    reg.network_.layers[0].mask[2, 1] = 0.0
    loaded = pickle.loads(pickle.dumps(reg))
    assert loaded.fitted_view_.symbolic_edges(0).keys() == {(1, 0)}
    assert loaded.network_.layers[0].mask[2, 1] == 0.0
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))


# --- Adversarial files: each is refused with a clear error, before anything is built ---


def _tampered_state(change):
    state = copy.deepcopy(_fitted("regressor").__getstate__())
    change(state)
    return state


def _network(state):
    return state["network_"]["__skkan_network__"]


def _encoding(state):
    return state["_input_encoding"]["__skkan_input_encoding__"]


ATTACKS = {
    "dtype names a torch function": lambda s: _network(s).update(dtype="load"),
    "dtype names a torch module": lambda s: _network(s).update(dtype="nn"),
    "unknown network field": lambda s: _network(s).update(__class__="os.system"),
    "unknown layer field": lambda s: _network(s)["layers"][0].update(forward="evil"),
    "unknown estimator attribute": lambda s: s.update(_evil=1),
    "attribute shadowing a method": lambda s: s.update(predict="not a method"),
    "attribute shadowing a property": lambda s: s.update(fitted_view_=None),
    "inflated widths": lambda s: _network(s).update(widths=[3, 10**6, 2]),
    "absurd widths": lambda s: _network(s).update(widths=[3, 10**18, 2]),
    "absurd grid size": lambda s: _network(s).update(grid_size=10**9),
    "shapes that disagree": lambda s: _network(s)["layers"][1].update(bias=np.zeros(5, dtype=np.float32)),
    "coefficients of the wrong size": lambda s: _network(s)["layers"][0].update(
        spline_coef=np.zeros((3, 3, 2), dtype=np.float32)
    ),
    "NaN coefficients": lambda s: _network(s)["layers"][0]["spline_coef"].__setitem__((0, 0, 0), np.nan),
    "infinite knots": lambda s: _network(s)["layers"][0]["knots"].__setitem__((0, 0), -np.inf),
    "knots out of order": lambda s: _network(s)["layers"][0]["knots"].__setitem__((0, 3), 99.0),
    "object array": lambda s: _network(s)["layers"][0].update(bias=np.array([print] * 3, dtype=object)),
    "symbolic function outside the library": lambda s: _network(s)["layers"][0].update(
        symbolic={
            "mask": np.ones((3, 3), dtype=np.float32),
            "function_index": np.full((3, 3), 999),
            "affine": np.zeros((3, 3, 4), dtype=np.float32),
        }
    ),
    "network as a live object": lambda s: s.update(network_=KANNetwork([3, 2], 3, 3)),
    "input scaling of the wrong size": lambda s: _encoding(s).update(mean=np.zeros(7), scale=np.ones(7)),
    "zero input scale": lambda s: _encoding(s).update(scale=np.zeros(3)),
    "input scaling as a list": lambda s: _encoding(s).update(mean=[0.0, 0.0, 0.0]),
    "infinite input mean": lambda s: _encoding(s)["mean"].__setitem__(0, np.inf),
    "unknown input encoding field": lambda s: _encoding(s).update(evil="os.system"),
    "input encoding as a live object": lambda s: s.update(_input_encoding=object()),
    "input encoding from the future": lambda s: _encoding(s).update(format=2),
    "input range of the wrong shape": lambda s: _encoding(s).update(input_range=np.zeros((3, 1))),
    "categories the network lacks": lambda s: _encoding(s).update(categories=[None, np.array([0.0, 1.0]), None]),
    "separate scaling beside the encoding": lambda s: s.update(_input_mean=np.zeros(3)),
    "feature count that disagrees": lambda s: s.update(n_features_in_=5),
    "format from the future": lambda s: _network(s).update(format=99),
    "missing values of the wrong shape": lambda s: _network(s)["layers"][0]["tabular"].update(
        missing_value=np.zeros((3, 9), dtype=np.float32)
    ),
    "NaN missing value": lambda s: _network(s)["layers"][0]["tabular"]["missing_value"].__setitem__((0, 0), np.nan),
    "category table larger than its counts": lambda s: _network(s)["layers"][0]["tabular"].update(
        n_categories=np.array([0, 10**7, 0])
    ),
    "negative category count": lambda s: _network(s)["layers"][0]["tabular"].update(n_categories=np.array([0, -1, 0])),
    "missing flags that are not 0/1": lambda s: _network(s)["layers"][0]["tabular"].update(
        missing_seen=np.full(3, 0.5, dtype=np.float32)
    ),
    "unknown tabular field": lambda s: _network(s)["layers"][0]["tabular"].update(evil=1),
    "infinite interpretation sample": lambda s: s["_interpretation_sample"].__setitem__((0, 0), np.inf),
    "product nodes on the outputs": lambda s: _network(s).update(multiplication_nodes=[0, 0, 1]),
    "more product nodes than nodes": lambda s: _network(s).update(multiplication_nodes=[0, 99, 0]),
    "product nodes the layer shapes lack": lambda s: _network(s).update(multiplication_nodes=[0, 1, 0]),
    "product nodes as a string": lambda s: _network(s).update(multiplication_nodes="[0, 1, 0]"),
    "interaction groups as a string": lambda s: _network(s).update(input_groups="[[0], [1]]"),
    "interaction group beyond the inputs": lambda s: _network(s).update(input_groups=[[0], [7]]),
    "empty interaction group": lambda s: _network(s).update(input_groups=[[0], []]),
    "more interaction groups than hidden nodes": lambda s: _network(s).update(input_groups=[[0], [1], [2]] * 40),
    "edges the interaction groups forbid": lambda s: _network(s).update(input_groups=[[0], [1], [2]]),
    "monotone direction out of range": lambda s: _network(s).update(monotone=[2, 0, 0]),
    "monotone directions as a string": lambda s: _network(s).update(monotone="[1, 0, 0]"),
    "monotone directions of the wrong length": lambda s: _network(s).update(monotone=[1, 0]),
    "edges that break the monotone constraints": lambda s: _network(s).update(monotone=[1, 0, 0]),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_tampered_states_are_refused(attack):
    state = _tampered_state(ATTACKS[attack])
    loaded = KANRegressor.__new__(KANRegressor)
    with pytest.raises(UnsafeModelError, match="Refusing to load"):
        loaded.__setstate__(state)
    assert "network_" not in loaded.__dict__


def test_a_refused_load_allocates_nothing_large():
    import tracemalloc

    state = _tampered_state(ATTACKS["inflated widths"])
    tracemalloc.start()
    with pytest.raises(UnsafeModelError):
        KANRegressor.__new__(KANRegressor).__setstate__(state)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2**20


@pytest.mark.parametrize("attack", ["dtype names a torch function", "unknown layer field", "NaN coefficients"])
def test_tampered_skops_files_are_refused(attack, tmp_path, monkeypatch):
    sio = pytest.importorskip("skops.io")
    reg = _fitted("regressor")
    state = reg.__getstate__()
    ATTACKS[attack](state)
    path = tmp_path / "model.skops"
    with monkeypatch.context() as patch:
        # Write the tampered plain state, as an attacker editing the file would.
        patch.setattr(KANRegressor, "__getstate__", lambda self: state)
        sio.dump(reg, path)
    with pytest.raises(UnsafeModelError, match="Refusing to load"):
        sio.load(path, trusted=get_trusted_types())


def test_loading_does_not_touch_the_global_torch_rng():
    data = pickle.dumps(_fitted("regressor"))
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    pickle.loads(data)
    torch.testing.assert_close(torch.rand(3), expected)


def test_model_fitted_on_cuda_loads_on_cpu_with_a_warning():
    reg = _fitted("regressor")
    expected = reg.predict(X)
    reg.device_ = "cuda:0"  # as if fitted on a GPU; the saved state is device-free anyway
    data = pickle.dumps(reg)
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here: no fallback to test")
    with pytest.warns(UserWarning, match="fitted on cuda:0, which is not available here; it computes on the CPU"):
        loaded = pickle.loads(data)
    assert next(loaded.network_.parameters()).device.type == "cpu"
    np.testing.assert_array_equal(loaded.predict(X), expected)


def test_loading_a_model_from_another_skkan_version_warns():
    reg = _fitted("regressor")
    state = reg.__getstate__()
    assert state["_skkan_version"] == __version__
    state["_skkan_version"] = "0.0.1"
    loaded = KANRegressor.__new__(KANRegressor)
    with pytest.warns(UserWarning, match="saved with skkan 0.0.1 and is loaded with skkan"):
        loaded.__setstate__(state)
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pickle.loads(pickle.dumps(reg))  # same version: silent


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_skops_safe_loading(kind, tmp_path):
    sio = pytest.importorskip("skops.io")
    est = _fitted(kind)
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted  # skops does not know our classes by default ...
    assert set(untrusted) <= set(get_trusted_types())  # ... and they are all we ask users to trust
    with pytest.raises(Exception, match="[Uu]ntrusted"):
        sio.load(path)
    _assert_same_model(sio.load(path, trusted=get_trusted_types()), est)


@pytest.mark.parametrize("how", ["pickle", "skops"])
def test_missing_values_and_categories_survive(how, tmp_path):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"x": X[:, 0], "colour": pd.Categorical(Y_CLF), "z": np.where(X[:, 2] > 1, np.nan, X[:, 2])})
    est = KANClassifier(
        hidden_layer_sizes=(3,), max_iter=4, random_state=0, categorical_features="from_dtype", dtype="float64"
    ).fit(frame, X[:, 1] > 0)
    assert np.isnan(est._interpretation_sample).any()
    if how == "pickle":
        loaded = pickle.loads(pickle.dumps(est))
    else:
        sio = pytest.importorskip("skops.io")
        sio.dump(est, tmp_path / "model.skops")
        loaded = sio.load(tmp_path / "model.skops", trusted=get_trusted_types())
    np.testing.assert_array_equal(loaded.predict_proba(frame), est.predict_proba(frame))
    assert loaded.categories_[1].tolist() == ["cat", "dog", "emu"]
    view, original = loaded.fitted_view_, est.fitted_view_
    np.testing.assert_array_equal(view.missing_values, original.missing_values)
    np.testing.assert_array_equal(view.missing_learned, [False, False, True])
    np.testing.assert_array_equal(view.category_values(1), original.category_values(1))


def test_unfitted_estimator_round_trips():
    reg = KANRegressor(hidden_layer_sizes=(4, 2), grid_size=3)
    loaded = pickle.load(io.BytesIO(pickle.dumps(reg)))
    assert loaded.get_params() == reg.get_params()
    assert not hasattr(loaded, "network_")


@pytest.mark.parametrize("device", ["mps", "cuda:3"])
def test_predict_falls_back_to_the_cpu_when_the_fitted_device_is_missing(device):
    reg = _fitted("regressor")
    expected = reg.predict(X)
    reg.device_ = device
    if device.startswith("cuda") and torch.cuda.device_count() > 3:
        pytest.skip("that device exists here")
    with pytest.warns(UserWarning, match=f"fitted on {device}, which is not available here"):
        np.testing.assert_array_equal(reg.predict(X), expected)
    with pytest.warns(UserWarning, match="not available here"):
        loaded = pickle.loads(pickle.dumps(reg))
    with pytest.warns(UserWarning, match="not available here"):
        np.testing.assert_array_equal(loaded.predict(X), expected)


def test_skops_loads_a_pipeline_with_the_trusted_types(tmp_path):
    sio = pytest.importorskip("skops.io")
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    pipe = make_pipeline(SimpleImputer(), KANRegressor(hidden_layer_sizes=(2,), max_iter=3, random_state=0))
    pipe.fit(X, Y_REG[:, 0])
    path = tmp_path / "pipe.skops"
    sio.dump(pipe, path)
    loaded = sio.load(path, trusted=get_trusted_types())
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))


def test_joblib_memory_mapped_loading(tmp_path):
    reg = _fitted("regressor")
    joblib.dump(reg, tmp_path / "model.joblib")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = joblib.load(tmp_path / "model.joblib", mmap_mode="r")
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
