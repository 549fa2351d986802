"""Lecture decks (issue 26): a deck round-trips through its JSON; a file that is too big, not JSON, not a deck or
naming unknown pages is an InputError with a sentence."""

import json

import pytest

from dlplay import deck
from dlplay.errors import InputError

PAGES = {"vae", "gan", "autoencoders"}


def test_a_deck_round_trips():
    d = [deck.Bookmark("Posterior collapse", "vae", {"beta": "4", "latent": "8"}), deck.Bookmark("Ring", "gan")]
    assert deck.parse(deck.to_json(d), PAGES) == d


@pytest.mark.parametrize("raw,match", [
    (b"x" * (deck.MAX_BYTES + 1), "at most"),
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    (json.dumps([1, 2]).encode(), "needs a list"),
    (json.dumps({"bookmarks": [{"title": "a"}]}).encode(), "Bookmark 1"),
    (json.dumps({"bookmarks": [{"title": "a", "page": "vae", "query": {"x": [1]}}]}).encode(), "name = value"),
    (json.dumps({"bookmarks": [{"title": "a", "page": "nope"}]}).encode(), "nope"),
    (json.dumps({"bookmarks": [{"page": "vae"}] * (deck.MAX_BOOKMARKS + 1)}).encode(), "at most"),
])
def test_bad_decks_are_a_sentence(raw, match):
    with pytest.raises(InputError, match=match):
        deck.parse(raw, PAGES)
