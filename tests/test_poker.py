"""The poker-hand labeller, checked on hand-made hands of every class."""

import numpy as np
import pytest

from skkan.benchmark._poker import CLASS_NAMES, make_poker_hands, poker_hand_class

# (suits, ranks) -> class; suits 1-4, ranks 1 (ace) .. 13 (king).
HANDS = [
    ([1, 2, 3, 4, 1], [2, 5, 9, 11, 13], 0),  # nothing
    ([1, 2, 3, 4, 1], [1, 2, 3, 4, 6], 0),  # almost an ace-low straight
    ([1, 2, 3, 4, 1], [11, 12, 13, 1, 2], 0),  # no wrap-around straight
    ([1, 2, 3, 4, 1], [7, 7, 2, 9, 12], 1),  # one pair
    ([1, 2, 3, 4, 1], [7, 7, 12, 9, 12], 2),  # two pairs
    ([1, 2, 3, 4, 1], [7, 7, 7, 9, 12], 3),  # three of a kind
    ([1, 2, 3, 4, 1], [5, 6, 7, 8, 9], 4),  # straight
    ([1, 2, 3, 4, 1], [1, 2, 3, 4, 5], 4),  # ace-low straight
    ([1, 2, 3, 4, 1], [10, 11, 12, 13, 1], 4),  # ace-high straight, not one suit
    ([3, 3, 3, 3, 3], [2, 5, 9, 11, 13], 5),  # flush
    ([1, 2, 3, 4, 1], [7, 7, 7, 12, 12], 6),  # full house
    ([1, 2, 3, 4, 1], [7, 7, 7, 7, 12], 7),  # four of a kind
    ([2, 2, 2, 2, 2], [5, 6, 7, 8, 9], 8),  # straight flush
    ([2, 2, 2, 2, 2], [1, 2, 3, 4, 5], 8),  # ace-low straight flush
    ([4, 4, 4, 4, 4], [13, 1, 11, 10, 12], 9),  # royal flush, in any order
]


@pytest.mark.parametrize(("suits", "ranks", "label"), HANDS)
def test_hand_made_hands_get_their_class(suits, ranks, label):
    assert poker_hand_class(suits, ranks) == label
    # The order cards are dealt in does not matter.
    assert poker_hand_class(suits[::-1], ranks[::-1]) == label


def test_every_class_is_covered():
    assert {label for _, _, label in HANDS} == set(range(len(CLASS_NAMES)))


@pytest.mark.parametrize(
    ("suits", "ranks", "message"),
    [
        ([1, 1, 2, 3], [1, 2, 3, 4], "five cards"),
        ([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], "Suits"),
        ([1] * 5, [2] * 5, "twice"),
    ],
)
def test_impossible_hands_are_refused(suits, ranks, message):
    with pytest.raises(ValueError, match=message):
        poker_hand_class(suits, ranks)


def test_dealt_hands_are_valid_and_reproducible():
    X, y = make_poker_hands(3000, random_state=0)
    assert X.shape == (3000, 10) and y.shape == (3000,)
    cards = set()
    for row in X:
        hand = list(zip(row[0::2], row[1::2]))
        assert len(set(hand)) == 5
        cards.update(hand)
    assert len(cards) == 52
    # About half the deals are "nothing", about 42% one pair (the game's odds).
    frequencies = np.bincount(y, minlength=10) / y.size
    assert 0.46 < frequencies[0] < 0.54 and 0.38 < frequencies[1] < 0.46
    X2, y2 = make_poker_hands(3000, random_state=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
