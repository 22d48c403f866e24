"""Device selection for the engine."""

import re

import torch

__all__ = ["resolve_device"]

_DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda)(:(\d+))?$")


def resolve_device(device):
    """Turn a device specification into an available ``torch.device``.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:N"`` or ``"mps"``.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If the specification is not understood or the device is not
        available on this machine.
    """
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str):
        raise ValueError(f"device must be a string such as 'auto', 'cpu' or 'cuda:0', got {device!r}.")
    match = _DEVICE_PATTERN.match(device.strip().lower())
    if match is None:
        raise ValueError(f"Unknown device {device!r}: use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'.")
    kind, index = match.group(1), match.group(3)
    if kind == "auto":
        if index is not None:
            raise ValueError(f"Unknown device {device!r}: 'auto' takes no index.")
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if kind == "cpu":
        return torch.device("cpu")
    if kind == "mps":
        if not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
            raise ValueError("device='mps' was requested but MPS is not available on this machine.")
        return torch.device("mps")
    if not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available on this machine; use device='cpu' or 'auto'."
        )
    count = torch.cuda.device_count()
    index = int(index) if index is not None else torch.cuda.current_device()
    if index >= count:
        raise ValueError(f"device={device!r} was requested but only {count} CUDA device(s) are available.")
    return torch.device(f"cuda:{index}")
