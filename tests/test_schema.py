"""The label schema is a contract with the trained model: these exact lists, in this order."""

from __future__ import annotations

from assistant.understanding import schema
from assistant.understanding.plan import INTENTS


def test_new_intents_are_appended_in_order():
    assert schema.HA_INTENTS[:32] == (
        "HassTurnOn", "HassTurnOff", "HassLightSet", "HassGetState", "HassSetPosition", "HassClimateSetTemperature",
        "HassClimateGetTemperature", "HassFanSetSpeed", "HassVacuumStart", "HassVacuumReturnToBase", "HassMediaPause",
        "HassMediaUnpause", "HassMediaNext", "HassMediaPrevious", "HassSetVolume", "HassSetVolumeRelative",
        "HassMediaPlayerMute", "HassMediaPlayerUnmute", "HassStartTimer", "HassCancelTimer", "HassCancelAllTimers",
        "HassPauseTimer", "HassUnpauseTimer", "HassTimerStatus", "HassIncreaseTimer", "HassDecreaseTimer",
        "HassGetCurrentTime", "HassGetCurrentDate", "HassGetWeather", "HassListAddItem", "HassShoppingListAddItem",
        "HassNevermind")  # fmt: skip
    assert schema.HA_INTENTS[32:] == (
        "HassBroadcast", "HassClimateSetFanMode", "HassLawnMowerDock", "HassLawnMowerStartMowing",
        "HassListCompleteItem", "HassListRemoveItem", "HassMediaSearchAndPlay", "HassRespond",
        "HassShoppingListCompleteItem", "HassVacuumCleanArea")  # fmt: skip
    assert schema.INTENT_LABELS == (schema.NO_INTENT, *schema.HA_INTENTS, *schema.INTERNAL_INTENTS)
    assert len(schema.INTENT_LABELS) == 49


def test_new_slot_types_are_appended_in_order():
    assert schema.SLOT_TYPES == (
        "name", "area", "floor", "brightness", "color", "color_temp", "position", "volume", "percentage",
        "temperature", "step", "duration", "item", "state", "message", "query", "media_class", "fan_mode")  # fmt: skip
    assert schema.TAG_LABELS[0] == "O" and len(schema.TAG_LABELS) == 1 + 2 * 18
    assert schema.TAG_LABELS[-2:] == ("B-fan_mode", "I-fan_mode")


def test_every_intent_has_a_handler():
    assert set(INTENTS) == set(schema.HA_INTENTS)
