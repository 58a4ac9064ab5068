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
