"""Thread settings: loading the compiled kernel keeps the user's torch thread count."""

import subprocess
import sys

import pytest
import torch

from skkan._engine.kernel import compiled_kernel_available

_SCRIPT = """
import torch
torch.set_num_threads(1)
torch.rand(1_000_000).exp()  # starts torch's OpenMP thread pool, as a fit does
from skkan._engine.kernel import compiled_kernel_available
available = compiled_kernel_available(torch.float64)
print(available, torch.get_num_threads())
"""


@pytest.mark.skipif(not compiled_kernel_available(torch.float64), reason="the kernel needs numba")
def test_loading_the_kernel_keeps_torch_thread_count():
    # A fresh process: numba's OpenMP runtime starts only once per process,
    # and it used to reset torch's count to one thread per core.
    result = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=300, check=True)
    assert result.stdout.split() == ["True", "1"]
