"""A fit in a process forked after the parent has fitted (GNU OpenMP is not fork-safe)."""

import multiprocessing
import sys

import numpy as np
import pytest
import torch

from skkan import KANRegressor

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork start method (Linux)")

X = np.random.default_rng(0).uniform(-1, 1, (300, 3))
Y = X.sum(axis=1)


def _fit_and_score(_):
    reg = KANRegressor((3,), max_iter=3, random_state=0, dtype="float32").fit(X, Y)
    return reg.score(X, Y), torch.get_num_threads()


def test_a_forked_child_fits_after_the_parent_used_its_thread_pools():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # a parallel region in the parent, as on a user's machine
    try:
        parent_score, _ = _fit_and_score(0)
        with multiprocessing.get_context("fork").Pool(1) as pool:
            # Without the at-fork handler this hangs (torch) or the child is terminated (numba).
            child_score, child_threads = pool.map_async(_fit_and_score, [0]).get(timeout=120)[0]
    finally:
        torch.set_num_threads(threads)
    assert child_threads == 1
    np.testing.assert_allclose(child_score, parent_score, rtol=1e-5)
