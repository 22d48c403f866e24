"""Poker hands: a synthetic classification task labelled by the game's rules.

The layout follows the UCI "Poker Hand" data: five cards, each as a suit
(1-4) and a rank (1 = ace, 11-13 = jack, queen, king), in the order dealt;
the class is the best hand they form:

== ===================  ======================================================
0  nothing               none of the below
1  one pair              two cards of one rank
2  two pairs             two pairs of different ranks
3  three of a kind       three cards of one rank
4  straight              five consecutive ranks (the ace counts low or high)
5  flush                 five cards of one suit
6  full house            three of a kind and a pair
7  four of a kind        four cards of one rank
8  straight flush        a straight in one suit (not the royal one)
9  royal flush           ten, jack, queen, king, ace of one suit
== ===================  ======================================================

Hands are dealt uniformly from a shuffled 52-card deck, so the classes are as
rare as in the game (about half the hands are "nothing", a royal flush comes
once in 650,000 deals).
"""

from collections import Counter

import numpy as np

__all__ = ["CLASS_NAMES", "make_poker_hands", "poker_hand_class"]

CLASS_NAMES = (
    "nothing",
    "one pair",
    "two pairs",
    "three of a kind",
    "straight",
    "flush",
    "full house",
    "four of a kind",
    "straight flush",
    "royal flush",
)
_ROYAL_RANKS = frozenset({1, 10, 11, 12, 13})


def _is_straight(ranks):
    distinct = sorted(set(ranks))
    if len(distinct) != 5:
        return False
    return distinct[-1] - distinct[0] == 4 or set(distinct) == _ROYAL_RANKS


def poker_hand_class(suits, ranks):
    """Class (0-9, see the module docstring) of one five-card hand.

    Parameters
    ----------
    suits : sequence of 5 ints in 1..4
    ranks : sequence of 5 ints in 1..13 (1 is the ace)

    Returns
    -------
    int
    """
    suits, ranks = [int(s) for s in suits], [int(r) for r in ranks]
    if len(suits) != 5 or len(ranks) != 5:
        raise ValueError("A poker hand has exactly five cards.")
    if not all(1 <= s <= 4 for s in suits) or not all(1 <= r <= 13 for r in ranks):
        raise ValueError(f"Suits must be in 1..4 and ranks in 1..13, got suits {suits} and ranks {ranks}.")
    if len(set(zip(suits, ranks))) != 5:
        raise ValueError(f"A hand cannot hold the same card twice: {list(zip(suits, ranks))}.")
    flush = len(set(suits)) == 1
    straight = _is_straight(ranks)
    if flush and straight:
        return 9 if set(ranks) == _ROYAL_RANKS else 8
    counts = sorted(Counter(ranks).values(), reverse=True)
    if counts[0] == 4:
        return 7
    if counts[:2] == [3, 2]:
        return 6
    if flush:
        return 5
    if straight:
        return 4
    if counts[0] == 3:
        return 3
    if counts[:2] == [2, 2]:
        return 2
    if counts[0] == 2:
        return 1
    return 0


def make_poker_hands(n_samples, *, random_state=None):
    """Deal ``n_samples`` random hands and label them by the rules.

    Parameters
    ----------
    n_samples : int
    random_state : int, numpy Generator or None

    Returns
    -------
    X : ndarray of shape (n_samples, 10), int
        Columns ``S1, C1, ..., S5, C5``: suit and rank of each card as dealt.
    y : ndarray of shape (n_samples,), int
        Classes 0-9.
    """
    rng = np.random.default_rng(random_state)
    # One row of 52 random keys per hand; the 5 smallest pick 5 distinct cards.
    cards = np.argsort(rng.random((n_samples, 52)), axis=1)[:, :5]
    suits, ranks = cards // 13 + 1, cards % 13 + 1
    X = np.empty((n_samples, 10), dtype=np.int64)
    X[:, 0::2], X[:, 1::2] = suits, ranks
    y = np.array([poker_hand_class(s, r) for s, r in zip(suits, ranks)], dtype=np.int64)
    return X, y
