"""scikit-learn's own estimator test suite on both estimators, with default parameters.

On the CPU the defaults compute in float64 (``dtype="auto"``), and on the
checks' small data sets they train with deterministic full-batch L-BFGS without
a validation split (see ``skkan._recipe``), so fits on repeated rows and on
integer sample weights agree, and predictions do not depend on how the rows
are sliced or ordered, to scikit-learn's 1e-7 tolerances. A new network starts
at the weighted prior (``KANNetwork.start_at_prior``), so extreme class weights
are honoured from the first iterate. Every check passes: there is no list of
expected failures.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skkan import KANClassifier, KANRegressor, KANSymbolicRegressor


@parametrize_with_checks([KANRegressor(), KANClassifier()])
def test_sklearn_compatible_estimator_with_defaults(estimator, check):
    check(estimator)


# The symbolic regressor with its defaults: on the checks' small tables (at most 200 rows) its search
# tries only the structures the rows support (20 training rows per edge), so it ends within its budget
# and the result does not depend on the machine's speed.
@parametrize_with_checks([KANSymbolicRegressor()])
def test_sklearn_compatible_symbolic_regressor(estimator, check):
    check(estimator)


# Two of the new parameters set away from their defaults: an ensemble (the checks' small data would
# otherwise resolve "auto" to one network) and edges evaluated beyond the training range.
@parametrize_with_checks(
    [
        KANRegressor(ensemble_size=2, extrapolation="continue"),
        KANClassifier(ensemble_size=2, extrapolation="continue"),
    ]
)
def test_sklearn_compatible_estimator_as_an_ensemble_that_extrapolates(estimator, check):
    check(estimator)


# Interaction constraints: every pair of features its own group. Constrained classifiers, and the
# additive regressor ("no_interactions"), pass every check but check_sample_weight_equivalence: on its
# 15-row, 30-feature data their full-batch L-BFGS fit is underdetermined along flat directions, and
# merely reordering the rows moves predictions on the zero-weight rows by up to 0.03. Their guarantees
# are tested in tests/test_interaction_constraints.py.
@parametrize_with_checks([KANRegressor(interaction_cst="pairwise")])
def test_sklearn_compatible_estimator_with_interaction_constraints(estimator, check):
    check(estimator)


# Every regression loss (the quantile loss needs its quantile).
@parametrize_with_checks(
    [
        KANRegressor(loss="absolute_error"),
        KANRegressor(loss="huber"),
        KANRegressor(loss="quantile", quantile=0.3),
    ]
)
def test_sklearn_compatible_estimator_with_each_loss(estimator, check):
    check(estimator)


# The log-link losses pass every check but one: check_regressor_multioutput fits make_regression's
# targets, negative ones included, without the positive_only tag's shift that every other check
# applies; Poisson and Gamma deviance refuse them (as PoissonRegressor would), so that check is
# replaced by test_losses.py::test_log_link_losses_fit_several_outputs on positive targets.
@parametrize_with_checks(
    [KANRegressor(loss="poisson"), KANRegressor(loss="gamma")],
    expected_failed_checks=lambda estimator: {
        "check_regressor_multioutput": "negative targets, outside the deviance's domain"
    },
)
def test_sklearn_compatible_estimator_with_a_log_link(estimator, check):
    check(estimator)
