"""A process's first fits: they keep the user's torch thread count and never import ``torch._dynamo``."""

import subprocess
import sys

import pytest

_SCRIPT = """
import sys

import pytest
import numpy as np
import torch
torch.set_num_threads(1)
torch.rand(1_000_000).exp()  # starts torch's OpenMP thread pool, as a user's own work would
from skkan import KANClassifier, KANRegressor
X = np.random.default_rng(0).uniform(-1, 1, (40, 2))
KANRegressor(max_iter=2, optimizer="lbfgs").fit(X, X.sum(axis=1))
KANClassifier(max_iter=2, optimizer="adam").fit(X, X[:, 0] > 0)
print(torch.get_num_threads(), "torch._dynamo" in sys.modules)
"""


@pytest.mark.slow
def test_first_fits_keep_thread_count_and_skip_dynamo():
    # A fresh process, since both happen once per process: numba's OpenMP
    # runtime started by the first kernel load used to reset torch's count to
    # one thread per core, and torch.optim's optimisers import torch._dynamo
    # (about 3 s) at their first use.
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", _SCRIPT], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "False"]
