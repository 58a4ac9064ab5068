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
    """One of: done, answer, confirm, rejected, unsure (understood, but not surely enough to act),
    no_target, ambiguous, unsupported."""
    timings_ms: dict[str, float] = field(default_factory=dict)
    pending_actions: tuple[Action, ...] = ()
    """For outcome "confirm": what will be published once the user says yes."""
    pending_reply: str = ""
    """For outcome "confirm": the reply once it is done ("Unlocked the Front Door.")."""
    commands: tuple[Parse, ...] = ()
    """Several commands in one sentence: each one's own Parse, in the order spoken; empty for one command.
    The top-level fields then sum them up: every action in order, one reply, the first command's intent."""

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
        parts = [c.as_dict() for c in self.commands] if self.commands else [out]
        out["commands"] = [self._command_dict(part) for part in parts]
        return out

    @staticmethod
    def _command_dict(out: dict[str, Any]) -> dict[str, Any]:
        """One command's entry in ``commands``: the top-level keys, without the request's own."""
        return {k: v for k, v in out.items() if k not in ("id", "timings_ms", "commands")}


# -- voice -------------------------------------------------------------------------------------
# Audio is 16-bit signed mono PCM at 16 kHz in a numpy int16 array. Times are in milliseconds of
# audio since the stream began, counted from samples, never read from the wall clock.


@dataclass(frozen=True, eq=False)
class AudioChunk:
    """A run of audio from a source."""

    samples: Any
    """numpy int16, mono."""
    rate_hz: int
    timestamp_ms: float
    """Where the first sample lies in the stream, from sample counts."""

    @property
    def duration_ms(self) -> float:
        return len(self.samples) * 1000.0 / self.rate_hz


@dataclass(frozen=True, eq=False)
class Utterance:
    """One stretch of speech found by voice activity detection, with its pre-roll."""

    samples: Any
    """numpy int16 mono at ``rate_hz``: pre-roll, the speech, and up to the end-of-speech silence."""
    rate_hz: int
    start_ms: float
    """The first speech sample (not the pre-roll), stream time."""
    end_ms: float
    """The sample where speech ended, stream time: latency figures are measured from here."""
    emitted_ms: float
    """Stream time at which the endpointer decided the speech was over (end_ms + the silence waited)."""
    vad_ms: float = 0.0
    """Compute time the VAD spent between end_ms and emitted_ms (wall time, for the latency budget)."""
    truncated: bool = False
    """True when cut at the maximum utterance length rather than ended by silence."""


@dataclass(frozen=True)
class Transcript:
    """What the recogniser heard in one utterance."""

    text: str
    engine: str
    """``whisper`` or ``vosk``."""
    start_ms: float = 0.0
    end_ms: float = 0.0
    confidence: float | None = None
    """0..1 where the engine gives one."""
    asr_ms: float = 0.0
    """Compute time after the utterance was complete (streaming engines did most work before)."""
    grammar: bool = False
    """True when a closed grammar produced the text (grammar-first: the home's sentences)."""
    unsure: bool = False
    """True when the grammar's sentence won by too little (``asr.grammar_min_confidence``), or whisper's open
    transcript is too improbable (``asr.open_min_confidence``): it is shown, never acted on."""
    open_text: str | None = None
    """The open transcript, when the grammar's sentence was taken instead (what ``asr.grammar: false`` gives),
    or when it is itself unsure."""
