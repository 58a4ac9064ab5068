"""Typed messages passed between pipeline stages. Units are in the field names or docstrings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Action:
    """One MQTT message exactly as it would be published."""

    device: str
    """Registry id of the device, e.g. ``light.kitchen_ceiling``."""
    topic: str
    payload: str
    """UTF-8 text (JSON for zigbee2mqtt, plain values for tasmota, the template's output for generic)."""
    qos: int = 1
    retain: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"device": self.device, "topic": self.topic, "payload": self.payload, "qos": self.qos,
                "retain": self.retain}  # fmt: skip


@dataclass(frozen=True)
class Parse:
    """What a sentence means and what it would do: a pure function of text, context and registry."""

    text: str
    intent: str | None
    """Home Assistant intent name, or None when the sentence is rejected ("not for me")."""
    confidence: float
    """The model's probability for its intent label, 0..1."""
    slots: dict[str, Any] = field(default_factory=dict)
    """Normalised slot values (brightness in percent, duration_s in seconds, ...)."""
    targets: tuple[str, ...] = ()
    """Registry ids of the devices acted on or asked about."""
    actions: tuple[Action, ...] = ()
    reply: str = ""
    outcome: str = "rejected"
    """One of: done, answer, confirm, rejected, no_target, ambiguous, unsupported."""
    timings_ms: dict[str, float] = field(default_factory=dict)
    pending_actions: tuple[Action, ...] = ()
    """For outcome "confirm": what will be published once the user says yes."""

    def as_dict(self, id: Any = None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if id is not None:
            out["id"] = id
        out.update({
            "text": self.text,
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "slots": self.slots,
            "targets": list(self.targets),
            "actions": [a.as_dict() for a in self.actions],
            "reply": self.reply,
            "outcome": self.outcome,
            "timings_ms": self.timings_ms,
        })  # fmt: skip
        if self.pending_actions:
            out["pending_actions"] = [a.as_dict() for a in self.pending_actions]
        return out
