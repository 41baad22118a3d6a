"""`core.tools.last_named`: which of a tool's known names a question means, the one mentioned last."""

from __future__ import annotations

from hygeia.core.tools import last_named

EVENTS = ["rhabdomyolysis", "myopathy", "muscle injury", "injury", "rash", "qt"]


def test_the_name_mentioned_last_wins_and_the_longest_of_those_ending_there():
    follow_up = "Is there a signal for simvastatin and rhabdomyolysis? What about myopathy?"
    assert last_named(follow_up, EVENTS) == "myopathy"  # not the longer name asked about before
    assert last_named("Any muscle injury?", EVENTS) == "muscle injury"  # not "injury" alone
    assert last_named("RASH, or Rhabdomyolysis!", EVENTS) == "rhabdomyolysis"  # case and punctuation aside


def test_only_whole_words_of_three_characters_or_more_count():
    assert last_named("Does it cause a rashes-like eruption?", EVENTS) is None  # "rashes" is not "rash"
    assert last_named("Is the QT prolonged?", EVENTS) is None  # two letters: too short to trust
    assert last_named("", EVENTS) is None and last_named("rash", []) is None
