from __future__ import annotations

import pytest

from assistant.understanding import normalize


@pytest.mark.parametrize(("words", "seconds"), [
    ("ten minutes", 600), ("an hour and a half", 5400), ("two and a half hours", 9000),
    ("1 hour 20 minutes", 4800), ("90 seconds", 90), ("half an hour", 1800), ("five mins", 300),
    ("a minute and a half", 90), ("quarter of an hour", 900), ("twenty five minutes", 1500),
    ("one hour and thirty minutes", 5400), ("3 hrs", 10800),
])  # fmt: skip
def test_durations(words, seconds):
    assert normalize.duration_seconds(words) == seconds


def test_duration_without_unit_is_none():
    assert normalize.duration_seconds("soon") is None


@pytest.mark.parametrize(("words", "value"), [
    ("thirty percent", 30), ("30%", 30), ("half", 50), ("max", 100), ("seventy five", 75), ("full", 100),
    ("150 percent", 100),
])  # fmt: skip
def test_percent(words, value):
    assert normalize.percent(words) == value


def test_colours():
    assert normalize.color("Red") == ("red", (255, 0, 0))
    assert normalize.color("light blue") == ("lightblue", (173, 216, 230))
    assert normalize.color("grey") == ("gray", (128, 128, 128))
    assert normalize.color("the colour of sadness") is None


def test_colour_temperatures():
    assert normalize.color_temp_kelvin("warm white") == 2700
    assert normalize.color_temp_kelvin("4000 kelvin") == 4000
    assert normalize.color_temp_kelvin("daylight") == 6500


def test_temperatures():
    assert normalize.temperature("seventy two fahrenheit") == (72.0, "F")
    assert normalize.temperature("21 degrees") == (21.0, None)
    assert normalize.temperature("twenty point five") == (20.5, None)
    assert normalize.temperature("nineteen and a half degrees celsius") == (19.5, "C")


def test_fan_words():
    assert normalize.fan_percentage("high") == 100
    assert normalize.fan_percentage("low") == 33
    assert normalize.fan_percentage("speed 2") == 67
    assert normalize.fan_percentage("40 percent") == 40


def test_items():
    assert normalize.item_text("some oat milk") == "oat milk"
    assert normalize.item_text("Call the plumber.") == "call the plumber"


@pytest.mark.parametrize(("words", "mode"), [
    ("auto", "auto"), ("on automatic", "auto"), ("to high speed", "high"), ("low", "low"), ("the quiet mode", "quiet"),
    ("max", "high"), ("sleep mode", "sleep"),
])  # fmt: skip
def test_fan_modes(words, mode):
    assert normalize.fan_mode(words) == mode


@pytest.mark.parametrize(("words", "media_class"), [
    ("song", "track"), ("the album", "album"), ("a playlist", "playlist"), ("radio station", "channel"),
    ("podcast", "podcast"), ("tv show", "tv_show"), ("something", None),
])  # fmt: skip
def test_media_classes(words, media_class):
    assert normalize.media_class(words) == media_class


def test_free_text_keeps_what_was_said():
    assert normalize.free_text(' "Dinner is ready!" ') == "Dinner is ready"
    assert normalize.free_text("Taylor  Swift") == "Taylor Swift"
    assert normalize.free_text(" ?! ") is None


def test_slots_the_tagger_missed_are_read_from_the_sentence():
    from assistant.understanding.model import Prediction, Span
    from assistant.understanding.recognise import normalise_slots

    def slots(label, text, spans=()):
        return normalise_slots(Prediction(label, 0.99, tuple(spans)), label, text)[0]

    assert slots("HassGetState", "is ben home", [Span("name", "ben home", 3, 11)])["state"] == "home"
    assert slots("HassGetState", "is the home office light on")["state"] == "on"  # the last state word
    assert "state" not in slots("HassGetState", "what is the humidity in the bathroom")
    assert slots("HassClimateSetFanMode", "put the ac fan on high")["fan_mode"] == "high"
    assert slots("HassMediaSearchAndPlay", "play some jazz on the kitchen speaker")["query"] == "jazz"
    assert slots("HassBroadcast", "broadcast that dinner is ready")["message"] == "dinner is ready"
    heard = slots("HassMediaSearchAndPlay", "play the album Abbey Road",
                  [Span("media_class", "album", 9, 14), Span("query", "Abbey Road", 15, 25)])  # fmt: skip
    assert (heard["query"], heard["media_class"]) == ("Abbey Road", "album")


@pytest.mark.parametrize(("words", "digits"), [
    ("a three second timer", "a 3 second timer"), ("one second", "1 second"), ("thirty seconds", "30 seconds"),
    ("the second light", "the 2nd light"),
])  # fmt: skip
def test_a_second_after_a_number_is_the_unit_not_the_ordinal(words, digits):
    assert normalize.to_digits(words) == digits
