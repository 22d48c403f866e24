"""The network an estimator builds: resolved widths, constraints, and the warm-start architecture check."""

from numbers import Integral

import numpy as np

from ._constraints import resolve_interaction_groups, resolve_monotonic_cst
from ._engine import KANNetwork
from ._engine.tabular import attach_tabular_edges
from ._recipe import resolve_hidden_layer_sizes
from ._validation import check_warm_start_architecture

__all__ = ["_NetworkArchitecture"]


class _NetworkArchitecture:
    """Mixin of the estimators: the architecture parameters resolved for the data, and networks built from them.

    ``hidden_layer_sizes``, ``multiplication_nodes``, ``grid_size``,
    ``spline_order``, ``interaction_cst`` and ``monotonic_cst`` become a
    :class:`~skkan._engine.KANNetwork`; a warm start checks that none of
    them changed.
    """

    def _hidden_layer_sizes(self, n_outputs, groups=None, monotone=None):
        """The hidden widths as a list of int; ``"auto"`` is resolved for ``n_outputs`` outputs and the constraints."""
        n_groups = 1 if groups is None else len(groups)
        sizes = resolve_hidden_layer_sizes(self.hidden_layer_sizes, n_outputs, groups, monotone is not None)
        # A hidden layer may have product nodes only (multiplication_nodes).
        smallest = 0 if self.multiplication_nodes else 1
        if not all(isinstance(s, Integral) and not isinstance(s, bool) and s >= smallest for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}.")
        if any(int(s) + self.multiplication_nodes < n_groups for s in sizes):
            raise ValueError(
                f"interaction_cst gives {n_groups} groups of features, and every group needs hidden nodes of its "
                f"own: each hidden layer needs at least {n_groups} nodes, got hidden_layer_sizes="
                f"{self.hidden_layer_sizes!r} (or leave it 'auto')."
            )
        return [int(s) for s in sizes]

    def _constrained_widths(self, X, categorical, n_outputs):
        """``(groups, monotone, hidden)``: the constraints resolved for validated ``X``, and the widths they need."""
        groups = self._interaction_groups(X)
        monotone = self._monotone_directions(X, categorical, n_outputs)
        return groups, monotone, self._hidden_layer_sizes(n_outputs, groups, monotone)

    def _interaction_groups(self, X):
        """The feature groups of ``interaction_cst`` for validated ``X`` (see skkan._constraints), or None."""
        return resolve_interaction_groups(self.interaction_cst, X.shape[1], getattr(self, "feature_names_in_", None))

    def _monotone_directions(self, X, categorical, n_outputs):
        """One direction per feature from ``monotonic_cst`` for validated ``X`` (see skkan._constraints), or None."""
        return resolve_monotonic_cst(
            self.monotonic_cst,
            X.shape[1],
            getattr(self, "feature_names_in_", None),
            categorical[0],
            n_outputs,
            is_classifier=not self._multi_output_target,
        )

    def _new_network(self, n_inputs, hidden, n_outputs, generator, dtype, members=1, groups=None, monotone=None):
        """A new network of ``members`` packed KANs; each hidden level has its sum nodes, then its product nodes."""
        if self.multiplication_nodes and not hidden:
            raise ValueError("multiplication_nodes needs at least one hidden layer (hidden_layer_sizes).")
        if members > 1 and self.multiplication_nodes:
            raise ValueError("ensemble_size > 1 cannot be combined with multiplication_nodes; use one of them.")
        if monotone is not None and self.multiplication_nodes:
            raise ValueError("monotonic_cst cannot be combined with multiplication_nodes; use one of them.")
        # An ensemble packs its members side by side: every level after the inputs is ensemble_size blocks.
        return KANNetwork(
            [n_inputs, *(members * (size + self.multiplication_nodes) for size in hidden), members * n_outputs],
            self.grid_size,
            self.spline_order,
            generator=generator,
            dtype=dtype,
            multiplication_nodes=[0, *[self.multiplication_nodes] * len(hidden), 0],
            ensemble_size=members,
            input_groups=groups,
            monotone=monotone,
        )

    def _new_tabular_network(
        self, n_inputs, hidden, n_outputs, generator, dtype, members, device, n_categories, groups=None, monotone=None
    ):
        """:meth:`_new_network` on ``device``, with the first layer's missing-value and categorical edges."""
        network = self._new_network(n_inputs, hidden, n_outputs, generator, dtype, members, groups, monotone)
        network = network.to(device)
        return attach_tabular_edges(network, n_categories, generator=generator)

    def _checked_architecture(self, hidden, reuse, members, groups=None, monotone=None):
        """The architecture parameters as given; with ``reuse`` (warm_start), any change is a ValueError."""
        extension = self.grid_extension
        if extension is None:
            extension = ()
        elif not isinstance(extension, str):
            extension = tuple(int(size) for size in np.asarray(extension).ravel())
        architecture = {
            "hidden_layer_sizes": tuple(hidden),
            "grid_size": int(self.grid_size),
            "grid_extension": extension,
            "spline_order": int(self.spline_order),
            "ensemble_size": int(members),
            "interaction_cst": None if groups is None else tuple(groups),
            "monotonic_cst": monotone,
            # KANRegressor's loss decides what the outputs mean (a log link or not); classifiers have none.
            "loss": self.get_params(deep=False).get("loss"),
        }
        if reuse:
            # Models saved before _architecture existed: the network tells its shape, not its grid schedule.
            view = self.fitted_view_
            fitted = getattr(self, "_architecture", None) or {
                "hidden_layer_sizes": tuple(view.widths[1:-1]),
                "spline_order": view.spline_order,
            }
            check_warm_start_architecture(type(self).__name__, fitted, architecture)
        return architecture
