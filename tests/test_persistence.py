"""Saving and loading: pickle, joblib, skops, device fallback, version stamp."""

import copy
import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch

from skkan import KANClassifier, KANRegressor, __version__, get_trusted_types
from skkan._engine import KANNetwork

RNG = np.random.default_rng(0)
X = RNG.normal(size=(50, 3))
Y_REG = np.column_stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]])
Y_CLF = np.array(["cat", "dog", "emu"])[np.digitize(X[:, 0], [-0.5, 0.5])]


def _fitted(kind):
    params = {"hidden_layer_sizes": (3,), "max_iter": 4, "random_state": 0, "grid_extension": (7,)}
    if kind == "regressor":
        return KANRegressor(**params).fit(X, Y_REG)
    return KANClassifier(**params, dtype="float64").fit(X, Y_CLF)


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


def test_extra_layer_attributes_and_buffers_survive(tmp_path):
    reg = _fitted("regressor")
    layer = reg.network_.layers[0]
    # What other tools may add: a plain flag, a dict, a pruned edge, an extra buffer.
    layer.fast_path = True
    layer.symbolic_edges = {(0, 1): ("sin", [1.0, 0.0, 1.0, 0.0])}
    with torch.no_grad():
        layer.mask[1, 2] = 0.0
    layer.register_buffer("symbolic_mask", torch.zeros(3, 3))
    layer.edge_tensors = {"scale": torch.arange(3.0), "dtype": torch.float64}
    reg.candidate_networks_ = [copy.deepcopy(reg.network_)]
    _assert_torch_free(reg.__getstate__())
    loaded = pickle.loads(pickle.dumps(reg))
    loaded_layer = loaded.network_.layers[0]
    assert loaded_layer.fast_path is True
    assert loaded_layer.symbolic_edges == {(0, 1): ("sin", [1.0, 0.0, 1.0, 0.0])}
    assert loaded_layer.mask[1, 2] == 0.0
    torch.testing.assert_close(loaded_layer.symbolic_mask, torch.zeros(3, 3))
    torch.testing.assert_close(loaded_layer.edge_tensors["scale"], torch.arange(3.0))
    assert loaded_layer.edge_tensors["dtype"] is torch.float64
    assert isinstance(loaded.candidate_networks_[0], KANNetwork)
    assert loaded.candidate_networks_[0].layers[0].fast_path is True
    assert not hasattr(loaded.network_.layers[1], "fast_path")
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))


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
    with pytest.warns(UserWarning, match="fitted on cuda:0, which is not available here; it was loaded on the CPU"):
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


def test_old_pickles_holding_the_network_still_load():
    reg = _fitted("regressor")
    state = dict(reg.__dict__)  # the pre-spec layout: a live KANNetwork
    loaded = KANRegressor.__new__(KANRegressor)
    loaded.__setstate__(state)
    assert isinstance(loaded.network_, KANNetwork)
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))


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


def test_unfitted_estimator_round_trips():
    reg = KANRegressor(hidden_layer_sizes=(4, 2), grid_size=3)
    loaded = pickle.load(io.BytesIO(pickle.dumps(reg)))
    assert loaded.get_params() == reg.get_params()
    assert not hasattr(loaded, "network_")
