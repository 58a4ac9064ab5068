"""Every English sentence the assistant says, in one place (Home Assistant's reply style).

Pure functions of what happened; the intent handlers (``plan``), the parser's policy and the session
(confirmations, timers) all take their words from here, so one phrase is never written twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

NOT_UNDERSTOOD = "Sorry, I didn't understand that."
NOT_SURE = "Sorry, I'm not sure what you meant."
CANCELLED = "OK, I won't."
NOTHING_TO_CONFIRM = "OK."
RATE_LIMITED = "Sorry, too many commands: I did nothing with that one. Please wait a moment."


def unreadable(detail: str) -> str:
    return f"Sorry, I couldn't read that command ({detail}), so I did nothing."


class Named(Protocol):
    """What a reply needs of a device (``config.Device`` has it)."""

    @property
    def name(self) -> str: ...

    @property
    def area(self) -> str | None: ...

    @property
    def domain(self) -> str: ...


def the(name: str) -> str:
    return name if name.lower().startswith("the ") else f"the {name}"


def called(device: Named) -> str:
    """How a reply names a device: "the Desk Lamp", but people by their name ("Anna")."""
    return device.name if device.domain == "person" else the(device.name)


def listed(words: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c" """
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1] if words else ""


def names_of(devices: Sequence[Named]) -> str:
    names = [called(d) for d in devices]
    if len(names) == 1:
        return names[0]
    if len(names) <= 3:
        return ", ".join(names[:-1]) + " and " + names[-1]
    areas = {d.area for d in devices}
    kind = {"light": "lights", "cover": "covers", "fan": "fans", "switch": "switches"}.get(devices[0].domain, "devices")
    where = f" in the {areas.pop()}" if len(areas) == 1 and None not in areas else ""
    return f"{len(names)} {kind}{where}"


def number(value: float) -> str:
    """7.0 -> "7", 7.25 -> "7.2" (one decimal at most)."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def measure(value: object, unit: str | None) -> str:
    """A reading with its unit, as the device reports them: "64%", "7.5 °C", "12 kWh"."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    text = number(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
    if not unit:
        return text
    return f"{text}{'' if unit == '%' else ' '}{unit}"


# What a binary sensor's "on"/"off" means, by device class (Home Assistant's own words for them).
BINARY_STATES: dict[str, tuple[str, str]] = {
    "battery": ("low", "normal"), "battery_charging": ("charging", "not charging"), "cold": ("cold", "normal"),
    "connectivity": ("connected", "disconnected"), "door": ("open", "closed"), "garage_door": ("open", "closed"),
    "gas": ("detected", "clear"), "heat": ("hot", "normal"), "light": ("detected", "clear"),
    "lock": ("unlocked", "locked"), "moisture": ("wet", "dry"), "motion": ("detected", "clear"),
    "moving": ("moving", "not moving"), "occupancy": ("detected", "clear"), "opening": ("open", "closed"),
    "plug": ("plugged in", "unplugged"), "power": ("on", "off"), "presence": ("home", "away"),
    "problem": ("reporting a problem", "OK"), "running": ("running", "not running"), "safety": ("unsafe", "safe"),
    "smoke": ("detected", "clear"), "sound": ("detected", "clear"), "tamper": ("tampered with", "clear"),
    "update": ("update available", "up to date"), "vibration": ("detected", "clear"), "window": ("open", "closed"),
    "carbon_monoxide": ("detected", "clear"),
}  # fmt: skip

_WEATHER = {"clear-night": "clear", "partlycloudy": "partly cloudy", "lightning": "stormy",
            "lightning-rainy": "stormy and rainy", "snowy-rainy": "sleeting", "windy-variant": "windy and cloudy",
            "exceptional": "exceptional weather", "fog": "foggy", "hail": "hailing", "pouring": "pouring"}  # fmt: skip


def state_words(domain: str, device_class: str | None, state: str) -> str:
    """A reported state as words: a binary sensor's on/off by its class, a person's whereabouts, an alarm's mode."""
    if domain == "binary_sensor" and state in ("on", "off") and device_class in BINARY_STATES:
        return BINARY_STATES[device_class][0 if state == "on" else 1]
    if domain == "person":
        return {"home": "home", "not_home": "away"}.get(state, f"at {state}")
    if domain == "alarm_control_panel" and state.startswith("armed_"):
        return f"armed ({state.removeprefix('armed_').replace('_', ' ')})"
    if domain == "weather":
        return _WEATHER.get(state, state.replace("-", " "))
    return state.replace("_", " ")


def is_phrase(device: Named, words: str) -> str:
    """ "the Hallway Motion is clear", "Anna is away", "the Router has an update available" """
    if words == "update available":
        return f"{called(device)} has an update available"
    return f"{called(device)} is {words}"


def weather_report(condition: str | None, temperature: str | None) -> str:
    """ "It's 7 °C and rainy." """
    parts = [p for p in (temperature, condition) if p]
    return f"It's {' and '.join(parts)}."


def people_home(home: Sequence[Named]) -> str:
    if not home:
        return "Nobody is home."
    return f"{names_of(home)} {'is' if len(home) == 1 else 'are'} home."


def already(devices: Sequence[Named], words: str) -> str:
    """ "The Living Room Lamp is already off.", "The Kitchen Counter Lights are already off." (nothing was sent) """
    one = len(devices) == 1 and not (devices[0].name.endswith("s") and not devices[0].name.endswith("ss"))
    return sentence([f"{names_of(devices)} {'is' if one else 'are'} already {words}"])


def pct(value: float) -> str:
    return f"{int(round(value))}%"


def degrees(value: float, unit: str) -> str:
    return f"{number(value)} °{unit.lstrip('°')}"


def sentence(parts: Sequence[str], joiner: str = ", ") -> str:
    """Parts joined ("a, b and c"), first letter up, full stop."""
    text = parts[0] if len(parts) == 1 else joiner.join(parts[:-1]) + " and " + parts[-1]
    return text[0].upper() + text[1:] + "."


def duration_words(seconds: float) -> str:
    """``5400`` -> "1 hour and 30 minutes"."""
    seconds = int(round(seconds))
    parts = []
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        n, seconds = divmod(seconds, size)
        if n:
            parts.append(f"{n} {unit}{'s' if n != 1 else ''}")
    return " and ".join(parts) if parts else "0 seconds"


def timer_label(duration_s: float) -> str:
    """ "10-minute timer", "1 hour and 30 minutes timer" """
    words = duration_words(duration_s)
    if " and " not in words:
        count, unit = words.split(" ", 1)
        words = f"{count}-{unit.rstrip('s')}"
    return f"{words} timer"


# -- confirmations and delivery ----------------------------------------------------------------


def confirm_question(verb: str, devices: Sequence[Named]) -> str:
    return f"Are you sure you want to {verb} {names_of(devices)}?"


def opposite_question(devices: Sequence[Named]) -> str:
    """When the words and the model disagree about the direction: ask, never act."""
    verbs = {"lock": "lock or unlock", "alarm_control_panel": "arm or disarm"}.get(devices[0].domain, "open or close")
    return f"Sorry, I'm not sure: should I {verbs} {names_of(devices)}?"


def on_or_off_question(devices: Sequence[Named]) -> str:
    """A turn or switch that said neither on nor off: ask, never guess."""
    return f"Sorry, I'm not sure: should I turn {names_of(devices)} on or off?"


def too_late() -> str:
    return "Sorry, that came too late to act on safely, so I did nothing."


def delivery_report(done: Sequence[str], not_sent: Sequence[str], refused: Sequence[str],
                    unknown: Sequence[str]) -> str:  # fmt: skip
    """What really happened to a command's device messages when not all of them were acknowledged."""
    def listed(names: Sequence[str]) -> str:
        names = sorted(set(names))
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

    parts = []
    if not_sent:
        parts.append(f"Sorry, I couldn't reach {listed(not_sent)}: the broker is not available, so nothing was sent.")
    if refused:
        parts.append(f"The broker refused the command for {listed(refused)}, so nothing was done there.")
    if unknown:
        parts.append(f"The command for {listed(unknown)} was sent but never confirmed: it may or may not have happened.")
    if done:
        parts.append(f"Done for {listed(done)}.")
    return " ".join(parts)


# -- timers ------------------------------------------------------------------------------------


def timer_reply(intent: str, *, duration_s: float | None = None, label: str | None = None, known: bool = False,
                count: int = 0, status: str | None = None) -> str:  # fmt: skip
    """The reply to a timer intent. ``known``: the running timers are known (the session), so ``label``
    (the timer acted on, None when there was none), ``count`` and ``status`` are the truth; otherwise
    (``assistant parse``, which cannot see them) the reply says what was asked."""
    if intent == "HassStartTimer":
        return f"Timer set for {duration_words(duration_s)}." if duration_s else "For how long?"
    if intent in ("HassIncreaseTimer", "HassDecreaseTimer"):
        up = intent == "HassIncreaseTimer"
        if not duration_s:
            return "By how much?" if known else f"{'Added time to' if up else 'Took time off'} the timer."
        if known and label is None:
            return "There's no timer running."
        return f"{'Added' if up else 'Took'} {duration_words(duration_s)} {'to' if up else 'off'} the timer."
    if intent == "HassTimerStatus":
        return status if known and status else "No timers are running."
    if not known:
        return {"HassCancelTimer": "Timer cancelled.", "HassCancelAllTimers": "All timers cancelled.",
                "HassPauseTimer": "Timer paused.", "HassUnpauseTimer": "Timer resumed."}[intent]  # fmt: skip
    if intent == "HassCancelAllTimers":
        return f"Cancelled {count} timer{'s' if count != 1 else ''}." if count else "There's no timer running."
    if label is None:
        return {"HassCancelTimer": "There's no timer running.", "HassPauseTimer": "There's no running timer to pause.",
                "HassUnpauseTimer": "There's no paused timer."}[intent]  # fmt: skip
    verb = {"HassCancelTimer": "Cancelled", "HassPauseTimer": "Paused", "HassUnpauseTimer": "Resumed"}[intent]
    return f"{verb} the {label}."


def timer_status(parts: Sequence[tuple[float, str, bool]]) -> str:
    """``(seconds left, label, paused)`` per timer."""
    if not parts:
        return "No timers are running."
    said = [f"{duration_words(left)} left on the {label}" + (" (paused)" if paused else "") for left, label, paused in parts]
    return "There's " + "; ".join(said) + "."


def timer_done(label: str) -> str:
    return f"Your {label} is done."


def too_many_timers(limit: int) -> str:
    return f"Sorry, {limit} timers are already running."
