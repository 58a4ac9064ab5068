"""Recognise: the model's prediction -> normalised slots, with the repairs the tagger needs
(names it split, values it missed, names that stop a word early). Pure."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from typing import Any

from . import normalize, schema
from .model import Prediction, Span


def normalise_slots(prediction: Prediction, label: str, text: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Normalised slot values, and the first span's words per slot."""
    spans: dict[str, str] = {}
    for span in prediction.spans:
        spans.setdefault(span.slot, span.text.strip(" .,!?;:"))
    slots: dict[str, Any] = {}
    intent = schema.public_intent(label)
    for key in ("name", "area", "floor"):
        if spans.get(key):
            slots[key] = spans[key]
    if "brightness" in spans and (value := normalize.percent(spans["brightness"])) is not None:
        slots["brightness"] = value
    if "color" in spans:
        if (color := normalize.color(spans["color"])) is not None:
            slots["color"], slots["rgb"] = color[0], list(color[1])
        elif (kelvin := normalize.color_temp_kelvin(spans["color"])) is not None:
            slots["color_temp"] = kelvin
    if "color_temp" in spans and (kelvin := normalize.color_temp_kelvin(spans["color_temp"])) is not None:
        slots["color_temp"] = kelvin
    if "position" in spans and (value := normalize.percent(spans["position"])) is not None:
        slots["position"] = value
    if "volume" in spans and (value := normalize.percent(spans["volume"])) is not None:
        slots["volume_level"] = value
    if "percentage" in spans and (value := normalize.fan_percentage(spans["percentage"])) is not None:
        slots["percentage"] = value
    if "temperature" in spans and (temp := normalize.temperature(spans["temperature"])) is not None:
        value_t = temp[0]
        slots["temperature"] = int(value_t) if value_t == int(value_t) else value_t
        if temp[1]:
            slots["temperature_unit"] = temp[1]
    if "step" in spans and label in schema.INTERNAL_INTENTS:
        step_slot = schema.INTERNAL_INTENTS[label][1]
        number = normalize.first_number(spans["step"])
        if number is not None:
            slots[step_slot] = int(number) if number == int(number) else number
    if "duration" in spans and (seconds := normalize.duration_seconds(spans["duration"])) is not None:
        slots["duration_s"] = seconds
    if "item" in spans and (item := normalize.item_text(spans["item"])):
        slots["item"] = item
    if "state" in spans and (state := normalize.state_word(spans["state"])):
        slots["state"] = state
    for key in ("message", "query"):
        if key in spans and (said := normalize.free_text(spans[key])):
            slots[key] = re.sub(r"^(?:some|a bit of|a little)\s+(?=\S)", "", said, flags=re.I) if key == "query" else said
    if "media_class" in spans and (media_class := normalize.media_class(spans["media_class"])):
        slots["media_class"] = media_class
    if "fan_mode" in spans and (mode := normalize.fan_mode(spans["fan_mode"])):
        slots["fan_mode"] = mode
    if intent == "HassFanSetSpeed" and "percentage" not in slots:
        for key in ("brightness", "volume_level", "position"):
            if key in slots:
                slots["percentage"] = slots.pop(key)
    _fill_missing(slots, label, intent, text)
    return slots, spans


_ABSOLUTE_FOR_STEP = {"brightness_step": "brightness", "temperature_step": "temperature", "volume_step": "volume_level"}
_STEP_RE = re.compile(r"\bby\s+(\S+(?:\s+\S+)?)|((?:a couple of|a few|\S+)(?:\s+and\s+a\s+half)?)\s+"
                      r"(?:degrees?|percent|%|points?)\b", re.I)  # fmt: skip


_YES_NO_RE = re.compile(r"^\s*(is|are|was|were)\b", re.I)
_PLAY_RE = re.compile(r"\b(?:play|put on|listen to)\s+(?:me\s+)?(?:some\s+)?(.+?)(?:\s+(?:on|in)\s+the\s+.*)?$", re.I)
_BROADCAST_RE = re.compile(r"\b(?:broadcast|announce|tell every(?:one|body)|tell the (?:house|family))\s+(?:that\s+)?(.+)$", re.I)


def _step_size(text: str) -> float | None:
    if re.search(r"\bhalf an? degree\b", text, re.I):
        return 0.5
    for match in _STEP_RE.finditer(text):
        number = normalize.first_number(match.group(1) or match.group(2))
        if number is not None and number > 0:
            return number
    return None


def _fill_missing(slots: dict[str, Any], label: str, intent: str | None, text: str) -> None:
    """Values the tagger missed, read from the whole sentence when the intent needs them."""
    if label in schema.INTERNAL_INTENTS:
        step_slot = schema.INTERNAL_INTENTS[label][1]
        absolute = _ABSOLUTE_FOR_STEP[step_slot]
        if step_slot not in slots and absolute in slots:  # "turn it down 40 percent": the size of the step
            value = slots.pop(absolute)
            slots[step_slot] = value
            slots.pop("temperature_unit", None)
        elif step_slot not in slots and (size := _step_size(text)) is not None:
            slots[step_slot] = int(size) if size == int(size) else size
        slots.pop(absolute, None)
    elif intent == "HassSetPosition" and "position" not in slots:
        if (value := normalize.percent(text)) is not None:
            slots["position"] = value
    elif intent in ("HassStartTimer", "HassIncreaseTimer", "HassDecreaseTimer") and "duration_s" not in slots:
        if (seconds := normalize.duration_seconds(text)) is not None:
            slots["duration_s"] = seconds
    elif intent == "HassFanSetSpeed" and "percentage" not in slots:
        if (value := normalize.fan_percentage(text)) is not None:
            slots["percentage"] = value
    elif intent == "HassSetVolume" and "volume_level" not in slots:
        if (value := normalize.percent(text)) is not None:
            slots["volume_level"] = value
    elif intent == "HassGetState" and "state" not in slots and _YES_NO_RE.match(text):
        # "is ben home", "is the battery low": the state asked about is the last state word ("is the home office
        # light on" asks about "on")
        states = [s for w in re.findall(r"[a-z]+", text.lower()) if (s := normalize.state_word(w))]
        if states:
            slots["state"] = states[-1]
    elif intent == "HassClimateSetFanMode" and "fan_mode" not in slots:
        if (mode := normalize.fan_mode_in(text)) is not None:
            slots["fan_mode"] = mode
    elif intent == "HassMediaSearchAndPlay" and "query" not in slots:
        if (match := _PLAY_RE.search(text)) and (query := normalize.free_text(match.group(1))):
            slots["query"] = query
    elif intent == "HassBroadcast" and "message" not in slots:
        if (match := _BROADCAST_RE.search(text)) and (message := normalize.free_text(match.group(1))):
            slots["message"] = message


GENERIC_NAMES = frozenset({"light", "lights", "lighting", "bulb", "bulbs", "lamps", "lightbulbs", "everything",
                           "heating", "the heat"})  # fmt: skip
"""Words for a kind of device in general ("the lights", "the heating"): they say where (this room's), not which
one, so they are not names, even where a device has one as an alias."""


def is_generic_name(words: str) -> bool:
    return re.sub(r"^(?:the|my|our|all the|all)\s+", "", words.strip(" .,!?;:").lower()) in GENERIC_NAMES


def join_split_names(prediction: Prediction, text: str) -> Prediction:
    """Name spans with only a space between them are one name the tagger broke ("living room | lamb"); names
    that are a kind of device in general ("the heating") are left to the area and the kind."""
    spans: list[Span] = []
    for span in prediction.spans:
        if span.slot == "name" and is_generic_name(span.text):
            continue
        last = spans[-1] if spans else None
        if last and last.slot == span.slot == "name" and not text[last.end : span.start].strip():
            spans[-1] = Span("name", text[last.start : span.end], last.start, span.end)
        else:
            spans.append(span)
    return replace(prediction, spans=tuple(spans)) if len(spans) < len(prediction.spans) else prediction


def name_variants(text: str, span: Any) -> list[str]:
    """A name span, and the span with the one or two words after it and the word before it: the tagger
    sometimes stops early ("the desk | lamp")."""
    base = span.text.strip(" .,!?;:")
    after = [w.strip(" .,!?;:") for w in text[span.end:].split()[:2]]
    before = [w.strip(" .,!?;:") for w in text[:span.start].split()[-1:]]
    variants = [base]
    if after and after[0]:
        variants.append(f"{base} {after[0]}")
        if len(after) > 1 and after[1]:
            variants.append(f"{base} {after[0]} {after[1]}")
    if before and before[0]:
        variants.append(f"{before[0]} {base}")
    return variants


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")


def clean_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return " ".join(_CONTROL_RE.sub(" ", text).split())


