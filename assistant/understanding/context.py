"""The context a sentence is understood in: where it was said, when, and the command before it.

``Context.from_json`` is the wire form ``assistant parse --jsonl`` reads; a forged or malformed context is
a ValueError naming the field, never a crash further in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..core.messages import Parse
from . import schema

_RANGES: dict[str, tuple[float, float]] = {
    "brightness": (0, 100), "position": (0, 100), "volume_level": (0, 100), "percentage": (0, 100),
    "brightness_step": (-100, 100), "volume_step": (-100, 100), "temperature_step": (-20, 20),
    "temperature": (-50, 120), "color_temp": (1000, 40000), "duration_s": (1, 7 * 24 * 3600),
}  # fmt: skip
"""Numeric slots a previous command may carry, and their bounds."""
_TEXT_SLOTS = frozenset({"name", "area", "floor", "color", "item", "state", "temperature_unit", "message", "query",
                         "media_class", "fan_mode"})


def _checked_slots(slots: Mapping[str, Any]) -> dict[str, Any]:
    """Slots of a previous command from outside: known keys with values of their type and range."""
    out: dict[str, Any] = {}
    for key, value in slots.items():
        if key in _RANGES:
            low, high = _RANGES[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or not low <= value <= high:
                raise ValueError(f"context.previous.slots.{key} must be a number from {low:g} to {high:g}")
        elif key in _TEXT_SLOTS:
            if not isinstance(value, str) or len(value) > 200:
                raise ValueError(f"context.previous.slots.{key} must be a short string")
        elif key == "rgb":
            if not isinstance(value, list) or len(value) != 3 or \
                    not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value):
                raise ValueError("context.previous.slots.rgb must be three integers from 0 to 255")
        else:
            raise ValueError(f"context.previous.slots: unknown slot {key[:40]!r}")
        out[key] = value
    return out


@dataclass(frozen=True)
class Context:
    """Where and when a request is made."""

    area: str | None = None
    """The area the request comes from; None means the site's area."""
    now: datetime | None = None
    """The time to answer time and date questions with; None means the clock now."""
    previous: Previous | None = None
    """The last command, within the follow-up window: "turn it off", "and the bedroom too"."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Context:
        """From a JSON object; raises ValueError on a malformed one."""
        if not data:
            return cls()
        area = data.get("area")
        now = data.get("now")
        if area is not None and not isinstance(area, str):
            raise ValueError("context.area must be a string")
        if now is not None and not isinstance(now, str):
            raise ValueError("context.now must be an ISO 8601 string")
        previous = data.get("previous")
        try:
            when = datetime.fromisoformat(now) if now else None
        except ValueError:
            raise ValueError("context.now must be an ISO 8601 string") from None
        return cls(
            area=area,
            now=when,
            previous=Previous.from_json(previous) if previous is not None else None,
        )


@dataclass(frozen=True)
class Previous:
    intent: str
    targets: tuple[str, ...]
    slots: Mapping[str, Any]

    @classmethod
    def from_json(cls, data: Any) -> Previous:
        if not isinstance(data, dict) or not isinstance(data.get("intent"), str):
            raise ValueError("context.previous must be an object with `intent`")
        targets = data.get("targets") or []
        slots = data.get("slots") or {}
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise ValueError("context.previous.targets must be a list of device ids")
        if not isinstance(slots, dict):
            raise ValueError("context.previous.slots must be an object")
        if data["intent"] not in schema.HA_INTENTS:
            raise ValueError(f"context.previous.intent: unknown intent {data['intent'][:40]!r}")
        return cls(data["intent"], tuple(targets), _checked_slots(slots))

    @classmethod
    def of(cls, parse: Parse) -> Previous | None:
        return cls(parse.intent, parse.targets, dict(parse.slots)) if parse.intent else None

    def as_dict(self) -> dict[str, Any]:
        return {"intent": self.intent, "targets": list(self.targets), "slots": dict(self.slots)}
