"""The optimisers of a fit: Adam and L-BFGS, without torch's first-step cost of ``torch._dynamo``.

Every ``torch.optim`` optimiser imports ``torch._dynamo`` when it is built
(``add_param_group``) and at its first ``step`` or ``zero_grad`` (their
decorators prepare for ``torch.compile``):
about 2.7 s of CPU, paid once per process - by a user's first fit, by each
joblib or Dask worker of a search, by each test worker. A fit never runs
under ``torch.compile``, so these two classes skip those decorators:

* :class:`LBFGS` runs torch's own L-BFGS iteration (``torch.optim.LBFGS``'s
  ``step``, unwrapped of the hooks an ``Optimizer`` adds) on an object built
  without ``Optimizer.__init__``, whose ``zero_grad`` drops the gradients
  directly.
* :class:`Adam` is Adam on torch's fused kernel (``torch._fused_adam_``, the
  kernel behind ``torch.optim.Adam(fused=True)``, so the numbers are the
  same), or on multi-tensor ops where that kernel is missing (torch before
  2.4 on the CPU, devices other than CPU and CUDA). Either way one update
  is a few calls over all parameters, not a Python loop per parameter.

Both keep the small surface the training loop uses: ``param_groups`` (whose
``"lr"`` the plateau schedule lowers), ``defaults``, ``step`` and
``zero_grad``; :class:`Adam` also takes ``grad_scale``, as the fused kernel
does, to apply gradient clipping for free (see
:func:`~skkan._engine.steps.clip_gradients`).
"""

import collections
import inspect

import torch

__all__ = ["Adam", "LBFGS"]

# torch's L-BFGS iteration itself, without the decorators that import torch._dynamo.
_LBFGS_ITERATION = inspect.unwrap(torch.optim.LBFGS.step)
_FUSED_ADAM_DEVICES = ("cpu", "cuda")


def _drop_gradients(parameters):
    for parameter in parameters:
        parameter.grad = None


class LBFGS(torch.optim.LBFGS):
    """``torch.optim.LBFGS`` (same arguments, same iterations) without the ``torch._dynamo`` import.

    ``Optimizer.__init__`` is skipped (its ``add_param_group`` imports
    ``torch._dynamo``): the constructor sets the attributes torch's L-BFGS
    iteration reads, and ``tests/test_optimizers.py`` checks the iterates
    against ``torch.optim.LBFGS``. Only ``step`` and ``zero_grad`` are
    supported (no ``state_dict``, no hooks).
    """

    def __init__(
        self,
        params,
        lr=1.0,
        max_iter=20,
        max_eval=None,
        tolerance_grad=1e-7,
        tolerance_change=1e-9,
        history_size=100,
        line_search_fn=None,
    ):
        self.defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "max_eval": max_iter * 5 // 4 if max_eval is None else max_eval,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        self._params = list(params)
        self.param_groups = [{"params": self._params, **self.defaults}]
        self.state = collections.defaultdict(dict)
        self._numel_cache = None

    def step(self, closure):
        """One L-BFGS step of up to ``max_iter`` inner iterations; returns the closure's first loss."""
        with torch.no_grad():
            return _LBFGS_ITERATION(self, closure)

    def zero_grad(self, set_to_none=True):
        """Drop every parameter's gradient (the only mode the fits use)."""
        _drop_gradients(self._params)


_FUSED_ADAM_AVAILABLE = {}


def _fused_adam_available(device):
    """Whether ``torch._fused_adam_`` runs on ``device``'s type (probed once per type)."""
    if device.type not in _FUSED_ADAM_AVAILABLE:
        _FUSED_ADAM_AVAILABLE[device.type] = _probe_fused_adam(device)
    return _FUSED_ADAM_AVAILABLE[device.type]


def _probe_fused_adam(device):
    if device.type not in _FUSED_ADAM_DEVICES or not hasattr(torch, "_fused_adam_"):
        return False
    try:  # torch before 2.4 has the kernel for CUDA only
        probe = [torch.zeros(1, device=device)]
        steps = [torch.zeros((), device=device)]
        torch._fused_adam_(
            probe, [torch.zeros(1, device=device)], [torch.zeros(1, device=device)], [torch.zeros(1, device=device)],
            [], steps, lr=0.0, beta1=0.9, beta2=0.999, weight_decay=0.0, eps=1e-8, amsgrad=False, maximize=False,
        )  # fmt: skip
    except (RuntimeError, NotImplementedError):
        return False
    return True


class Adam:
    """Adam (Kingma and Ba) over ``parameters``, as ``torch.optim.Adam`` with its defaults.

    Parameters
    ----------
    parameters : iterable of torch.Tensor
        Parameters of one device and one dtype.
    lr : float
    betas : tuple of float, default=(0.9, 0.999)
    eps : float, default=1e-8
    fused : bool or None, default=None
        Use torch's fused kernel; None picks it wherever it runs.

    Attributes
    ----------
    grad_scale : torch.Tensor or None
        When set (a float32 scalar on the parameters' device), the next
        :meth:`step` divides the gradients by it as it reads them.
    """

    def __init__(self, parameters, lr, betas=(0.9, 0.999), eps=1e-8, fused=None):
        self._params = list(parameters)
        device = self._params[0].device
        if fused is None:
            fused = _fused_adam_available(device)
        self.param_groups = [{"params": self._params, "lr": float(lr)}]
        self.defaults = {"lr": float(lr), "betas": betas, "eps": eps, "fused": bool(fused)}
        self._exp_avgs = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self._params]
        self._exp_avg_sqs = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self._params]
        # One step counter per parameter, float32 on the device, as the fused kernel reads them.
        self._steps = [torch.zeros((), dtype=torch.float32, device=device) for _ in self._params]
        self.grad_scale = None

    def zero_grad(self, set_to_none=True):
        """Drop every parameter's gradient."""
        _drop_gradients(self._params)

    @torch.no_grad()
    def step(self):
        """One Adam update of the parameters that have a gradient."""
        chosen = [i for i, p in enumerate(self._params) if p.grad is not None]
        if not chosen:
            return
        params = [self._params[i] for i in chosen]
        grads = [p.grad for p in params]
        exp_avgs = [self._exp_avgs[i] for i in chosen]
        exp_avg_sqs = [self._exp_avg_sqs[i] for i in chosen]
        steps = [self._steps[i] for i in chosen]
        lr, (beta1, beta2), eps = self.param_groups[0]["lr"], self.defaults["betas"], self.defaults["eps"]
        torch._foreach_add_(steps, 1)
        if self.defaults["fused"]:
            torch._fused_adam_(
                params, grads, exp_avgs, exp_avg_sqs, [], steps, lr=lr, beta1=beta1, beta2=beta2,
                weight_decay=0.0, eps=eps, amsgrad=False, maximize=False, grad_scale=self.grad_scale,
            )  # fmt: skip
            return
        if self.grad_scale is not None:
            grads = torch._foreach_div(grads, self.grad_scale.to(grads[0].dtype))
        _multi_tensor_adam(params, grads, exp_avgs, exp_avg_sqs, steps, lr, beta1, beta2, eps)


def _multi_tensor_adam(params, grads, exp_avgs, exp_avg_sqs, steps, lr, beta1, beta2, eps):
    """Adam's update in multi-tensor ops: ``p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)``."""
    torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
    torch._foreach_mul_(exp_avg_sqs, beta2)
    torch._foreach_addcmul_(exp_avg_sqs, grads, grads, 1 - beta2)
    step_sizes, denominators = [], torch._foreach_sqrt(exp_avg_sqs)
    for step, denominator in zip(steps, denominators):
        n = float(step)
        bias_correction1, bias_correction2 = 1 - beta1**n, 1 - beta2**n
        step_sizes.append(-lr / bias_correction1)
        denominator.div_(bias_correction2**0.5).add_(eps)
    torch._foreach_addcdiv_(params, exp_avgs, denominators, step_sizes)
