"""How many CPU threads torch may use during a fit.

Policy (applied by :func:`fit_threads` around every ``fit``):

1. The environment variable ``SKKAN_NUM_THREADS``, when set to a positive
   integer, wins.
2. Inside a parallel worker - a Dask worker, a joblib worker thread
   (``backend="threading"``) or any thread other than the main one - torch
   uses **one** thread: the parallelism then comes from the concurrent fits,
   and letting each of them also start one thread per core would
   oversubscribe the machine (n_jobs x n_cores threads).
3. Otherwise torch's own setting is left alone. joblib's process backend
   (loky, the default of ``GridSearchCV(n_jobs=...)``) already sets
   ``OMP_NUM_THREADS`` in its workers to ``cores // n_jobs``, which torch
   honours when it starts.

``torch.set_num_threads`` is process-wide, so concurrent fits in one process
share a reference count: the first one to enter records the setting, the last
one to leave restores it.
"""

import os
import sys
import threading
from contextlib import contextmanager

import torch

__all__ = ["fit_threads", "threads_for_fit"]

_lock = threading.Lock()
_active = 0
_saved_threads = None


def _in_dask_worker():
    if "distributed" not in sys.modules:
        return False
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True


def threads_for_fit():
    """Number of torch threads a fit should use here, or None to leave torch's setting alone."""
    requested = os.environ.get("SKKAN_NUM_THREADS", "").strip()
    if requested:
        try:
            value = int(requested)
        except ValueError:
            value = 0
        if value >= 1:
            return value
    if threading.current_thread() is not threading.main_thread() or _in_dask_worker():
        return 1
    return None


@contextmanager
def fit_threads(wanted="policy"):
    """Apply :func:`threads_for_fit` (or ``wanted`` threads, an int) for the duration of a fit."""
    global _active, _saved_threads
    if wanted == "policy":
        wanted = threads_for_fit()
    if wanted is None:
        yield
        return
    with _lock:
        if _active == 0:
            _saved_threads = torch.get_num_threads()
        _active += 1
        torch.set_num_threads(wanted)
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                torch.set_num_threads(_saved_threads)
