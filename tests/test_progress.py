"""Progress reporting of fits: verbose=1 bar or plain lines, verbose=0 silent."""

import dataclasses
import io

import numpy as np
import pytest

import skkan._base
from skkan import KANClassifier, KANRegressor
from skkan._engine import TrainingConfig
from skkan._progress import FitProgress, progress_reporter


def _epochs(n_stages=2, max_epochs=4, stop_after=3, validation=True):
    """Dicts like the training loop's: each stage stops early after ``stop_after`` epochs."""
    elapsed = 0.0
    for stage in range(n_stages):
        for epoch in range(1, stop_after + 1):
            elapsed += 1.5
            yield {
                "stage": stage,
                "n_stages": n_stages,
                "grid_size": 5 * (stage + 1),
                "epoch": epoch,
                "max_epochs": max_epochs,
                "loss": 1.0 / (10 * stage + epoch),
                "validation_loss": 2.0 / (10 * stage + epoch) if validation else None,
                "elapsed": elapsed,
            }


def test_plain_lines_show_stage_epoch_loss_validation_and_time_left():
    stream = io.StringIO()
    reporter = FitProgress(name="KANRegressor", style="lines", stream=stream, line_interval=0)
    for info in _epochs():
        reporter(info)
    reporter.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 6  # one per epoch at line_interval=0, and close() does not repeat the last
    assert lines[0] == (
        "KANRegressor: stage 1/2 (grid 5), epoch 1/4, loss 1, validation loss 2, 0:02 elapsed, at most 0:10 left"
    )
    assert lines[-1].startswith("KANRegressor: stage 2/2 (grid 10), epoch 3/4, loss 0.07692")
    assert "validation loss 0.1538" in lines[-1]
    # Seven of eight scheduled epochs done after 9 s: at most 1 epoch (1.3 s) left.
    assert lines[-1].endswith("0:09 elapsed, at most 0:01 left")


def test_plain_lines_are_periodic_with_stage_starts_and_final_epoch():
    stream = io.StringIO()
    reporter = FitProgress(name="fit", style="lines", stream=stream, line_interval=4.0)
    for info in _epochs(n_stages=2, max_epochs=10, stop_after=5, validation=False):
        reporter(info)
    reporter.close()
    lines = stream.getvalue().splitlines()
    # Epochs end at 1.5 s steps: stage starts (1.5 s, 9 s), 4 s apart otherwise, plus the last epoch.
    epochs = [line.split("epoch ")[1].split(",")[0] for line in lines]
    stages = [line.split("stage ")[1].split(" ")[0] for line in lines]
    assert list(zip(stages, epochs)) == [
        ("1/2", "1/10"),
        ("1/2", "4/10"),
        ("2/2", "1/10"),
        ("2/2", "4/10"),
        ("2/2", "5/10"),
    ]
    assert all("validation" not in line for line in lines)


def test_missing_keys_are_tolerated():
    stream = io.StringIO()
    reporter = FitProgress(style="lines", stream=stream, line_interval=0)
    reporter({})
    reporter({"train_loss": 0.5, "validation_score": 0.9, "epoch": 2})
    reporter.close()
    first, second = stream.getvalue().splitlines()
    assert first == "fit: stage 1/1"
    assert second == "fit: stage 1/1, epoch 2, loss 0.5, validation score 0.9"


def test_tqdm_bar_counts_the_schedule_and_shows_loss():
    pytest.importorskip("tqdm")
    stream = io.StringIO()
    reporter = FitProgress(name="KANClassifier", n_stages=2, max_epochs=4, style="bar", stream=stream)
    for info in _epochs():
        reporter(info)
    bar = reporter._bar
    # The first stage stopped after 3 of 4 epochs: the bar jumped to the second stage's start.
    assert (bar.n, bar.total) == (7, 8)
    reporter.close()
    text = stream.getvalue()
    assert "KANClassifier" in text and "7/8" in text
    assert "stage 2/2 (grid 10)" in text and "loss 0.07692" in text and "validation loss 0.1538" in text


def test_auto_style_is_plain_lines_outside_a_terminal():
    assert FitProgress(stream=io.StringIO()).style == "lines"

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    pytest.importorskip("tqdm")
    assert FitProgress(stream=Terminal()).style == "bar"


def test_auto_style_without_tqdm_is_plain_lines(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("skkan._progress._tqdm_class", lambda: None)
    assert FitProgress(stream=Terminal()).style == "lines"
    with pytest.raises(ImportError, match="skkan\\[progress\\]"):
        FitProgress(style="bar")


def test_verbosity_levels():
    assert progress_reporter(0, name="x", n_stages=1, max_epochs=3) is None
    assert progress_reporter(False, name="x", n_stages=1, max_epochs=3) is None
    assert progress_reporter(2, name="x", n_stages=1, max_epochs=3).line_interval == 0


def _data(n=40):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(n, 2))
    return X, X[:, 0] - X[:, 1] ** 2


def test_verbose_0_fit_prints_nothing(capsys):
    X, y = _data()
    KANRegressor(hidden_layer_sizes=(2,), max_iter=3, grid_extension=(6,), random_state=0).fit(X, y)
    KANClassifier(hidden_layer_sizes=(2,), max_iter=3, random_state=0).fit(X, y > 0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@dataclasses.dataclass
class _ConfigWithCallback(TrainingConfig):
    callback: object = None


def test_verbose_1_fit_reports_through_the_training_callback(monkeypatch, capsys):
    """A verbose fit hands its reporter to the training loop, shows its epochs and closes it."""
    if "callback" not in TrainingConfig.__dataclass_fields__:
        # Until the loop takes a callback: one that calls it with the loop's dicts.
        real_train = skkan._base.train_network

        def train_with_callback(network, x, target, weights, config, **kwargs):
            fields = {f.name for f in dataclasses.fields(TrainingConfig)}
            plain = TrainingConfig(**{name: getattr(config, name) for name in fields})
            result = real_train(network, x, target, weights, plain, **kwargs)
            for epoch, loss in enumerate(result.loss_curve, start=1):
                config.callback({"stage": 0, "grid_size": 5, "epoch": epoch, "max_epochs": 3, "train_loss": loss})
            return result

        monkeypatch.setattr(skkan._base, "TrainingConfig", _ConfigWithCallback)
        monkeypatch.setattr(skkan._base, "train_network", train_with_callback)
    X, y = _data()
    KANRegressor(hidden_layer_sizes=(2,), max_iter=3, early_stopping=False, verbose=1, random_state=0).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out == ""  # the engine's own lines are replaced by the reporter
    lines = captured.err.splitlines()
    assert lines[0].startswith("KANRegressor: stage 1/1 (grid 5), epoch 1/3, loss ")
    assert lines[-1].startswith("KANRegressor: stage 1/1 (grid 5), epoch 3/3, loss ")
