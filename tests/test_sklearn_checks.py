"""scikit-learn's own estimator test suite on both estimators, with default parameters.

On the CPU the defaults compute in float64 (``dtype="auto"``), and on the
checks' small data sets they train with deterministic full-batch L-BFGS without
a validation split (see ``skkan._recipe``), so fits on repeated rows and on
integer sample weights agree, and predictions do not depend on how the rows
are sliced or ordered, to scikit-learn's 1e-7 tolerances.

One check is excused, with its reason (issue 12 stays open until it passes).
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skkan import KANClassifier, KANRegressor

_EXPECTED_FAILURES = {
    "KANClassifier": {
        "check_class_weight_classifiers": (
            "class weights of 1000 and 1e-4 (a 1e7 ratio): the 10 full-batch L-BFGS steps of the small-data "
            "recipe leave ~40% of the blobs in the down-weighted class, where Adam predicts them all in the "
            "heavy class; the recipe does not yet adapt to extreme weight ratios"
        )
    }
}


@parametrize_with_checks(
    [KANRegressor(), KANClassifier()],
    expected_failed_checks=lambda estimator: _EXPECTED_FAILURES.get(type(estimator).__name__, {}),
)
def test_sklearn_compatible_estimator_with_defaults(estimator, check):
    check(estimator)
