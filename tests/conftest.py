import os
import warnings

import pytest

# Set before torch loads libgomp, which reads it once; inherited by the
# pytest-xdist workers. numba's OpenMP kernel threads otherwise spin between
# the thousands of short kernel calls of a fit and take the CPU from the other
# worker: about ten times the CPU time per fit on a busy 2-core machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def pytest_configure(config):
    # pytest-xdist's controller only hands out tests: it skips the set-up of
    # the processes that run them (torch and the kernels, seconds of CPU taken
    # from the workers while they start).
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        return
    import torch

    from skkan._engine.kernel import compiled_kernel_available

    # Compile (or load from numba's cache) the kernels for both dtypes once,
    # at start-up, rather than inside whichever test fits first. On a fresh
    # clone the cache is empty: the workers start on different dtypes, so that
    # each compiles one while the other waits for it (a lock across
    # processes) and then loads it from the cache.
    dtypes = [torch.float32, torch.float64]
    worker = getattr(config, "workerinput", {}).get("workerid", "gw0")
    if int(worker.removeprefix("gw") or 0) % 2:
        dtypes.reverse()
    for dtype in dtypes:
        compiled_kernel_available(dtype)
    # One torch thread per test process: CI has two cores, each running one
    # pytest-xdist worker, and tests that run parallel fits (n_jobs=2) would
    # otherwise oversubscribe them.
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _quiet_convergence():
    from sklearn.exceptions import ConvergenceWarning

    # Small max_iter values are used on purpose throughout the tests.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def pytest_collection_modifyitems(items):
    # Tests marked slow run first: pytest-xdist hands out the rest as workers
    # free up, so no worker is left with a long test while the other idles
    # at the end. ``-m "not slow"`` is the quick subset for local work.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
