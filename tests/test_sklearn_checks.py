"""scikit-learn's own estimator test suite on both estimators.

The defaults compute in float32 and, on data of 100+ samples, train with
mini-batch Adam and early stopping. Three checks compare fits or predictions
to 1e-7, a precision that float32 cannot meet; each is listed with its reason
below, and the same checks are run (and pass) on a float64 instance with
full-batch L-BFGS, which shows the failures are numerical, not logical.
"""

import pytest
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from skkan import KANClassifier, KANRegressor

_FLOAT32_REASON = (
    "float32 training: the check compares a fit on repeated rows with a fit on integer sample weights "
    "to 1e-7, while float32 rounding differs between the two sums and L-BFGS/Adam amplify it over "
    "hundreds of steps; passes with dtype='float64' and full-batch L-BFGS (tested below)."
)
_MINIBATCH_REASON = (
    "mini-batch Adam with early stopping on a validation split: a sample of weight 2 and two repeated rows "
    "fall into different batches and splits, so the fits differ (scikit-learn's MLP has the same limit); "
    "passes with full-batch L-BFGS in float64 (tested below)."
)


_ROW_ORDER_REASON = (
    "float32 prediction: the check predicts a data set whole, in slices (subset invariance) or with rows "
    "permuted (sample order invariance) and compares to atol=1e-7; float32 matrix products block their sums "
    "by batch size and row position, so results differ in the 7th digit (about 1e-7 relative); passes with "
    "dtype='float64' (tested below)."
)
_PRECISION_CHECKS = (
    "check_sample_weight_equivalence_on_dense_data",
    "check_methods_subset_invariance",
    "check_methods_sample_order_invariance",
)


def _expected_failures(estimator):
    return {
        "check_sample_weight_equivalence_on_dense_data": f"{_FLOAT32_REASON} Also: {_MINIBATCH_REASON}",
        "check_methods_subset_invariance": _ROW_ORDER_REASON,
        "check_methods_sample_order_invariance": _ROW_ORDER_REASON,
    }


@parametrize_with_checks(
    [KANRegressor(random_state=0), KANClassifier(random_state=0)],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible_estimator_with_defaults(estimator, check):
    check(estimator)


@pytest.mark.parametrize("check_name", _PRECISION_CHECKS)
@pytest.mark.parametrize("estimator_class", [KANRegressor, KANClassifier])
def test_precision_checks_pass_in_float64_with_lbfgs(estimator_class, check_name):
    # The checks excused above, run on a float64 full-batch L-BFGS instance.
    estimator = estimator_class(dtype="float64", optimizer="lbfgs", early_stopping=False, random_state=0)
    getattr(estimator_checks, check_name)(estimator_class.__name__, estimator)
