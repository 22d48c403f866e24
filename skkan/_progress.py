"""Progress of a fit for ``verbose >= 1``: a tqdm bar in a terminal, plain periodic lines elsewhere.

The training loop calls a reporter once per epoch with a dict (see
:class:`FitProgress`); the reporter decides what to show. ``verbose=0``
builds no reporter, so a default fit prints nothing, as in scikit-learn.
"""

import math
import sys
import time

__all__ = ["FitProgress", "progress_reporter"]

# Seconds between two plain lines at verbose=1: often enough to show that a
# long fit is alive, rarely enough not to flood a log file.
_LINE_INTERVAL = 5.0


def _tqdm_class():
    """tqdm's bar class, or None when the ``progress`` extra is not installed."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


def _format_seconds(seconds):
    seconds = int(round(seconds))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:d}:{seconds:02d}"


class FitProgress:
    """Shows the progress of one fit; call it once per epoch, then :meth:`close` it.

    Each call takes a dict with the keys ``stage`` (0-based index of the grid
    stage), ``n_stages``, ``grid_size``, ``epoch`` (1-based, within the
    stage), ``max_epochs``, ``loss`` (or ``train_loss``), ``validation_loss``
    (or ``validation_score``; None without early stopping) and ``elapsed``
    (seconds since training started). Missing keys are tolerated: what is
    not known is not shown.

    Parameters
    ----------
    name : str, default="fit"
        Shown in front of the bar or of each line (the estimator's name).
    n_stages : int, default=1
        Grid stages of the schedule, used when the dicts do not say.
    max_epochs : int, optional
        Most epochs of a stage, used when the dicts do not say.
    style : {"auto", "bar", "lines"}, default="auto"
        ``"auto"`` draws a tqdm bar when tqdm is installed and ``stream`` is
        a terminal, and prints plain lines otherwise.
    stream : file-like, optional
        Where to write; ``sys.stderr`` (at the time of the call) by default.
    line_interval : float, default=5.0
        Seconds between plain lines; a line is also printed for the first
        epoch of each stage and when the reporter is closed. 0 prints every
        epoch.
    """

    def __init__(self, *, name="fit", n_stages=1, max_epochs=None, style="auto", stream=None, line_interval=None):
        if style not in {"auto", "bar", "lines"}:
            raise ValueError(f"style must be 'auto', 'bar' or 'lines', got {style!r}.")
        self.name = name
        self.n_stages = n_stages
        self.max_epochs = max_epochs
        self.stream = stream
        self.line_interval = _LINE_INTERVAL if line_interval is None else float(line_interval)
        tqdm = _tqdm_class()
        if style == "auto":
            style = "bar" if tqdm is not None and self._is_terminal() else "lines"
        if style == "bar" and tqdm is None:
            raise ImportError("A progress bar needs tqdm; install it with `pip install skkan[progress]`.")
        self.style = style
        self._tqdm = tqdm
        self._bar = None
        self._last = None  # the latest dict, shown again by close()
        self._last_printed = None  # (stage, epoch) of the latest plain line
        self._last_line_time = -math.inf
        self._stage = None
        self._started = time.monotonic()

    def _out(self):
        return sys.stderr if self.stream is None else self.stream

    def _is_terminal(self):
        isatty = getattr(self._out(), "isatty", None)
        try:
            return bool(isatty and isatty())
        except ValueError:  # a closed stream
            return False

    # ------------------------------------------------------------------
    # What one epoch says
    # ------------------------------------------------------------------
    def _fields(self, info):
        stage = int(info.get("stage") or 0)
        n_stages = int(info.get("n_stages") or self.n_stages or 1)
        max_epochs = info.get("max_epochs", self.max_epochs)
        epoch = info.get("epoch")
        loss = info.get("loss", info.get("train_loss"))
        return stage, n_stages, max_epochs, epoch, loss

    @staticmethod
    def _validation_text(info):
        if info.get("validation_loss") is not None:
            return f"validation loss {info['validation_loss']:.4g}"
        if info.get("validation_score") is not None:
            return f"validation score {info['validation_score']:.4g}"
        return None

    def _done_and_total(self, info):
        """Epochs done so far and the most the whole schedule can take (None if unknown)."""
        stage, n_stages, max_epochs, epoch, _ = self._fields(info)
        if max_epochs is None or epoch is None:
            return None, None
        return stage * max_epochs + epoch, n_stages * max_epochs

    def _stage_text(self, info):
        stage, n_stages, *_ = self._fields(info)
        text = f"stage {stage + 1}/{n_stages}"
        if info.get("grid_size") is not None:
            text += f" (grid {info['grid_size']})"
        return text

    def _line(self, info):
        stage, n_stages, max_epochs, epoch, loss = self._fields(info)
        parts = [self._stage_text(info)]
        if epoch is not None:
            parts.append(f"epoch {epoch}" + (f"/{max_epochs}" if max_epochs is not None else ""))
        if loss is not None:
            parts.append(f"loss {loss:.4g}")
        validation = self._validation_text(info)
        if validation is not None:
            parts.append(validation)
        elapsed = info.get("elapsed")
        if elapsed is not None:
            parts.append(f"{_format_seconds(elapsed)} elapsed")
            done, total = self._done_and_total(info)
            if done and total and total > done:
                # An upper bound: early stopping or convergence can end a stage sooner.
                parts.append(f"at most {_format_seconds(elapsed / done * (total - done))} left")
        return f"{self.name}: " + ", ".join(parts)

    # ------------------------------------------------------------------
    # Reporting
    # ------------------------------------------------------------------
    def __call__(self, info):
        """Report one epoch (``info`` as described in the class docstring)."""
        self._last = dict(info)
        if self.style == "bar":
            self._update_bar(info)
        else:
            self._maybe_print_line(info)

    def _update_bar(self, info):
        done, total = self._done_and_total(info)
        if self._bar is None:
            self._bar = self._tqdm(
                total=total, desc=self.name, unit="epoch", file=self._out(), dynamic_ncols=True, leave=True
            )
        postfix = [self._stage_text(info)]
        _, _, _, _, loss = self._fields(info)
        if loss is not None:
            postfix.append(f"loss {loss:.4g}")
        validation = self._validation_text(info)
        if validation is not None:
            postfix.append(validation)
        self._bar.set_postfix_str(", ".join(postfix), refresh=False)
        # Jumps forward when a stage stops early: the bar counts the schedule's epochs.
        self._bar.update((done if done is not None else self._bar.n + 1) - self._bar.n)

    def _maybe_print_line(self, info):
        stage = info.get("stage")
        elapsed = info.get("elapsed")
        now = elapsed if elapsed is not None else time.monotonic() - self._started
        new_stage = stage != self._stage
        self._stage = stage
        if new_stage or now - self._last_line_time >= self.line_interval:
            self._print(info)
            self._last_line_time = now

    def _print(self, info):
        print(self._line(info), file=self._out(), flush=True)
        self._last_printed = (info.get("stage"), info.get("epoch"))

    def close(self):
        """End the report: close the bar, or print the last epoch if its line is not shown yet."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._last is not None and self._last_printed != (self._last.get("stage"), self._last.get("epoch")):
            self._print(self._last)


def progress_reporter(verbose, *, name, n_stages, max_epochs):
    """The reporter for an estimator's ``verbose`` level, or None when it stays silent.

    ``verbose=0`` is silent; 1 shows a progress bar (plain lines every few
    seconds outside a terminal or without tqdm); 2 or more prints a line
    every epoch.
    """
    if not verbose:
        return None
    if verbose >= 2:
        return FitProgress(name=name, n_stages=n_stages, max_epochs=max_epochs, style="lines", line_interval=0)
    return FitProgress(name=name, n_stages=n_stages, max_epochs=max_epochs)
