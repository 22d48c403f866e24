"""Public exceptions and warnings of skkan.

This module imports nothing from skkan, so every layer (the torch engine,
the estimators, persistence, interpretation) may raise these.
"""

__all__ = ["TrainingDivergedError", "UnsafeModelError"]


class TrainingDivergedError(FloatingPointError):
    """Training produced no finite state to return.

    Raised by ``fit`` when the loss (or the parameters) became NaN or
    infinite before any finite state was reached, for example with a far
    too large ``learning_rate`` or extreme inputs. When a finite state was
    reached before the divergence, ``fit`` restores it and warns instead.
    """


class UnsafeModelError(ValueError):
    """A saved skkan model failed validation while it was being loaded.

    Raised when a pickle or skops file holds a network description that
    skkan did not write: unknown fields or dtypes, tensor shapes that do not
    agree with the layer widths, grid size and spline order, non-finite
    numbers, or sizes beyond what the file itself holds. Nothing named in
    the file is resolved or set, and nothing large is allocated, before the
    check passes.
    """
