"""The fitted input encoding: one object, a plain-data form, validated on load."""

import pickle

import numpy as np
import pytest

from skkan import KANClassifier, KANRegressor
from skkan._encoding import InputEncoding
from skkan.exceptions import UnsafeModelError

RNG = np.random.default_rng(0)
X = np.column_stack([RNG.normal(size=80), RNG.integers(0, 3, 80).astype(float), RNG.uniform(size=80)])
X[::7, 2] = np.nan
Y = X[:, 0] + (X[:, 1] == 1)


def _fitted():
    return KANRegressor(hidden_layer_sizes=(2,), max_iter=3, random_state=0, categorical_features=[1]).fit(X, Y)


def test_the_encoding_round_trips_through_its_plain_data_form():
    encoding = _fitted()._input_encoding
    data = encoding.to_data()
    assert set(data) == {"format", "mean", "scale", "input_range", "categories"}
    again = InputEncoding.from_data(data)
    rows = np.array([[0.5, 1.0, np.nan], [1e9, 7.0, 0.2]])
    np.testing.assert_array_equal(again.network_inputs(rows), encoding.network_inputs(rows))
    assert again.to_data()["categories"][1].tolist() == [0.0, 1.0, 2.0]
    assert again.n_categories() == [0, 3, 0]
    # The plain form holds copies: changing it leaves the encoding alone.
    data["mean"][0] = 99.0
    assert encoding.mean[0] != 99.0


def test_the_view_shows_the_encoding_as_plain_data():
    model = _fitted()
    data = model.fitted_view_.input_encoding
    np.testing.assert_array_equal(data["mean"], model.fitted_view_.input_mean)
    assert model.is_categorical_.tolist() == [False, True, False]
    assert model.fitted_view_.target_link == "identity"


def test_a_model_saved_before_the_encoding_loads_the_same():
    model = KANClassifier(hidden_layer_sizes=(2,), max_iter=3, random_state=0, categorical_features=[1]).fit(X, Y > 0)
    state = model.__getstate__()
    data = state.pop("_input_encoding")["__skkan_input_encoding__"]
    state.update(
        _input_mean=data["mean"],
        _input_scale=data["scale"],
        _input_range=data["input_range"],
        is_categorical_=np.array([False, True, False]),
        categories_=data["categories"],
    )
    loaded = KANClassifier.__new__(KANClassifier)
    loaded.__setstate__(state)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(loaded)).predict_proba(X), model.predict_proba(X))


def _attack(change):
    state = _fitted().__getstate__()
    change(state["_input_encoding"]["__skkan_input_encoding__"])
    return state


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["categories"].__setitem__(1, np.array([2.0, 1.0, 0.0])),
        lambda d: d["categories"].__setitem__(1, np.array(["a", "b", "c"], dtype=object)),
        lambda d: d["categories"].__setitem__(1, np.arange(2000.0)),
        lambda d: d["categories"].__setitem__(1, np.array([0.0, 1.0, np.inf])),
        lambda d: d.update(categories=tuple(d["categories"])),
        lambda d: d["mean"].__setitem__(1, 3.0),
        lambda d: d.update(input_range=d["input_range"][::-1].copy()),
    ],
    ids=["unsorted", "object array", "too many", "infinite", "tuple", "shifted category", "inverted range"],
)
def test_tampered_encodings_are_refused(change):
    with pytest.raises(UnsafeModelError, match="Refusing to load"):
        KANRegressor.__new__(KANRegressor).__setstate__(_attack(change))
