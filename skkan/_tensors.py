"""The one place where numpy data becomes a torch tensor, and the dtypes the ``dtype`` parameter names."""

import numpy as np
import torch

__all__ = ["TORCH_DTYPES", "_as_tensor"]

TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _as_tensor(array, device, dtype):
    """The one place where numpy data becomes a torch tensor."""
    array = np.asarray(array)
    if not array.flags.writeable or not array.flags.c_contiguous:
        # torch refuses to share read-only memory (e.g. joblib memmaps).
        array = np.array(array, order="C")
    return torch.as_tensor(array, device=device, dtype=dtype)
