import warnings

import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

# One torch thread per test process: CI has two cores, and tests that run
# parallel fits (n_jobs=2) would otherwise oversubscribe them.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _quiet_convergence():
    # Small max_iter values are used on purpose throughout the tests.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield
