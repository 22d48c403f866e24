"""Device policy of skkan: the one module that decides where tensors live.

* :func:`resolve_device` turns the estimators' ``device`` parameter into an
  available ``torch.device`` at fit time (and refuses unavailable ones).
* :func:`usable_device` is the policy for a *fitted* model, whose
  ``device_`` may name a device this machine lacks (a model fitted on CUDA
  or MPS, then pickled and loaded elsewhere): it falls back to the CPU with
  a warning.
* :func:`forward_on` evaluates a CPU-resident network on another device
  without moving (or copying into) the fitted network itself.
* :func:`device_dtype` is the precision a device computes in by default.

Fitted networks always live on the CPU between calls, so pickles are
device-independent.
"""

import re
import warnings

import torch

__all__ = ["device_available", "device_dtype", "resolve_device", "forward_on", "usable_device"]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def device_dtype(dtype, device):
    """The torch dtype for a ``dtype`` parameter: ``"auto"`` is float64 on the CPU, float32 elsewhere.

    On the CPU float64 costs little (a training step 1.3-1.5x float32's) and
    keeps scikit-learn's 1e-7 comparisons; on GPUs float64 is many times
    slower than float32.
    """
    if dtype == "auto":
        dtype = "float64" if torch.device(device).type == "cpu" else "float32"
    return _DTYPES[dtype]


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


def device_available(device):
    """Whether ``device`` (a string or ``torch.device``) can be used on this machine."""
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        return False
    if device.type == "cpu":
        return True
    if device.type == "cuda":
        index = 0 if device.index is None else device.index
        return torch.cuda.is_available() and index < torch.cuda.device_count()
    if device.type == "mps":
        return hasattr(torch.backends, "mps") and torch.backends.mps.is_available()
    return False


def usable_device(saved, *, what="This model", warn=True):
    """The device a fitted model computes on: ``saved`` if available here, else the CPU.

    Parameters
    ----------
    saved : str or torch.device
        The device the model was fitted on (the estimators' ``device_``).
    what : str
        Names the model in the warning.
    warn : bool, default=True
        Warn (``UserWarning``) when falling back to the CPU.

    Returns
    -------
    torch.device
    """
    if device_available(saved):
        return torch.device(saved)
    if warn:
        warnings.warn(
            f"{what} was fitted on {saved}, which is not available here; it computes on the CPU instead.",
            UserWarning,
            stacklevel=3,
        )
    return torch.device("cpu")


def forward_on(network, device):
    """A function ``x -> network(x)`` that computes on ``device``.

    On the CPU this is the network itself. Elsewhere the parameters and
    buffers are moved once, for the returned function only
    (``torch.func.functional_call``): the fitted network stays on the CPU and
    is never copied as a module, nor changed.
    """
    device = torch.device(device)
    if device.type == "cpu":
        return network
    state = {name: tensor.to(device) for name, tensor in network.state_dict(keep_vars=True).items()}

    def forward(x):
        return torch.func.functional_call(network, state, (x,))

    return forward
