"""parse(text, context, registry) -> Parse: the pure core of the assistant.

recognise (the model, slots, span repair) -> context (follow-ups, pronouns) -> plan (the intent's handler:
targets, messages, reply) -> policy (confidence to act, confirmation of sensitive actions).
No I/O happens here: the same text, context and registry always give the same Parse.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import datetime

from ..config import Confirm, Device, Understanding
from ..core.messages import Action, Parse
from ..devices import Registry
from . import compound, polarity, schema
from .context import Context, Previous
from .model import NluModel, Prediction, Span
from .plan import INTENTS, Outcome, Request, is_shopping_list
from .recognise import clean_text, join_split_names, name_variants, normalise_slots
from .replies import NOT_SURE, NOT_UNDERSTOOD, confirm_question, on_or_off_question, opposite_question
from .resolve import Meanings, Resolver, match_area

MAX_TEXT_CHARS = 400
"""Longer input is not a spoken command: rejected without running the model."""

__all__ = ["Context", "Previous", "Understander", "MAX_TEXT_CHARS"]

_ON_OFF_RE = re.compile(r"\b(turn|switch|shut|put|flip)\s+(?:it|them|that|those|this|these)\s+(?:back\s+)?(on|off)\b", re.I)
_OBJECT_PRONOUN_RE = re.compile(r"\b(?:it|them|its|their)\b(?!'|\s+(?:is|was|gets?|feels?|looks?)\b)", re.I)
_ACTS_ON_DEVICES = frozenset({"HassTurnOn", "HassTurnOff", "HassLightSet", "HassSetPosition", "HassFanSetSpeed",
                              "HassClimateSetTemperature", "HassClimateSetFanMode", "HassSetVolume",
                              "HassSetVolumeRelative"})  # fmt: skip
_DUMMY_IT_RE = re.compile(r"\b(?:make|get|keep|have)\s+it\b", re.I)  # "make it warmer": the room, not a device
WHICH_DEVICE = "Sorry, which device do you mean?"
_PRONOUN_RE = re.compile(r"\b(it|its|them|their|that|those|this|these)\b", re.I)
_WATERING_RE = re.compile(r"\b(water|waters|watering|irrigat\w*|sprinkl\w*)\b", re.I)
_MOWING_RE = re.compile(r"\b(mow\w*|grass|cut|cutting)\b", re.I)
_MOWER_TO_VALVE = {"HassLawnMowerStartMowing": "HassTurnOn", "HassLawnMowerDock": "HassTurnOff"}
""""Water the lawn", "stop watering the garden": the sprinklers, not the lawn mower the model took it for."""
_FOLLOW_UP_RE = re.compile(r"^(and|also|same|now|then)\b|\b(too|as well|also)[.!?]*$", re.I)
_STEP_LABELS = {("HassLightSet", "brightness_step"): ("LightBrighter", "LightDimmer"),
                ("HassClimateSetTemperature", "temperature_step"): ("ClimateWarmer", "ClimateCooler"),
                ("HassSetVolumeRelative", "volume_step"): ("VolumeUp", "VolumeDown")}  # fmt: skip
_DEVICE_SLOTS = ("name", "area", "floor")
_NEEDS_PARTICLE = re.compile(r"^(?:turn|switch|put|flip|shut)\b(?!.*\b(?:on|off|up|down)\b)", re.I)


def _label_of(previous: Previous) -> str:
    """The model label that repeats a previous command."""
    for (intent, slot), (up, down) in _STEP_LABELS.items():
        if previous.intent == intent and isinstance(previous.slots.get(slot), (int, float)):
            return up if previous.slots[slot] > 0 else down
    return previous.intent




class Understander:
    """Turns sentences into Parse results with one loaded model."""

    def __init__(self, model: NluModel, settings: Understanding, confirm: Confirm | None = None) -> None:
        self.model = model
        self.settings = settings
        self.confirm = confirm or Confirm()
        self._meanings: Meanings | None = None
        self._meanings_of: Registry | None = None

    def meanings(self, registry: Registry) -> Meanings | None:
        """The registry's device names by meaning (None when the model has no embedding head), rebuilt when
        its devices change."""
        if not getattr(self.model, "embeds", False):
            return None
        if self._meanings_of is not registry:  # a new registry (state changes make one): have its devices changed?
            if self._meanings is None or self._meanings.signature != Meanings.signature_of(registry):
                self._meanings = Meanings(self.model.embed, registry)
            self._meanings_of = registry
        return self._meanings

    def parse(self, text: str, registry: Registry, context: Context | None = None) -> Parse:
        started = time.perf_counter()
        context = context or Context()
        timings: dict[str, float] = {}
        cleaned = clean_text(text) if isinstance(text, str) else ""
        if not cleaned or len(cleaned) > MAX_TEXT_CHARS or not re.search(r"[^\W\d_]", cleaned):
            timings["total"] = _ms(started)
            return Parse(text=cleaned[:MAX_TEXT_CHARS], intent=None, confidence=0.0, reply=NOT_UNDERSTOOD,
                         outcome="rejected", timings_ms=timings)  # fmt: skip
        prediction = join_split_names(self.model.predict(cleaned), cleaned)
        values = frozenset(w.casefold() for s in prediction.spans for w in re.findall(r"[^\W\d_]+", s.text))
        parts = compound.split(cleaned, [(s.start, s.start + len(s.text.rstrip(" ,;.!?"))) for s in prediction.spans],
                               lambda part: compound.starts_like_command(part)
                               or (not compound.has_own_words(part, registry, values)
                                   and compound.names_a_device(part, registry)))  # fmt: skip
        if len(parts) < 2:
            return self._parse_one(cleaned, registry, context, started, prediction)
        return self._parse_parts(cleaned, parts, registry, context, started, values)

    def _parse_parts(self, text: str, parts: list[str], registry: Registry, context: Context,
                     started: float, values: frozenset[str]) -> Parse:  # fmt: skip
        """Several commands: each part on its own, or as a follow-up of the one before when it only names
        devices ("turn off the tv and the lights"); all understood, or nothing done."""
        results: list[Parse] = []
        failed: list[str] = []
        last_particle = compound.particle(parts[-1])  # "turn the tv and the lights off": "off" is every part's
        for i, part in enumerate(parts):
            prediction = join_split_names(self.model.predict(part), part)
            here = context if not results else replace(context, previous=Previous.of(results[-1]))
            own_words = compound.has_own_words(part, registry, values)
            own_particle = compound.particle(part)
            alone = None
            if not results or own_words:
                if last_particle and not own_particle and i < len(parts) - 1 and _NEEDS_PARTICLE.match(part):
                    part = f"{part} {last_particle}"  # "turn the tv" of "turn the tv and the lamp off"
                    prediction = join_split_names(self.model.predict(part), part)
                alone = self._parse_one(part, registry, here, time.perf_counter(), prediction)
            elif own_particle:  # "... and the telly on": its own direction, not the one before
                alone = self._parse_one(f"turn {part}", registry, here, time.perf_counter(), said=part)
            if alone is not None and _understood(alone):
                results.append(replace(alone, text=part))
                continue
            follow = None
            borrows = not own_words or not compound.starts_like_command(part)  # "the office heater, it's freezing"
            if results and borrows and not own_particle and results[-1].intent is not None:
                # "and the lights": the verb and values of the part before
                follow = self._parse_one(f"and {part}", registry, here, time.perf_counter(), follow=True,
                                         said=f"{results[-1].text} and {part}")  # the verb it borrows counts
                follow = replace(follow, text=part)
                if follow.targets and not compound.says_which(part, [registry.device(t) for t in follow.targets]):
                    # "..., the door" after "pause the music": the words name no device the verb fits
                    follow = replace(follow, actions=(), pending_actions=(), outcome="no_target",
                                     reply=f"Sorry, I'm not sure what to do with \u201c{part}\u201d.")  # fmt: skip
                if _understood(follow) and follow.outcome in compound.OK_OUTCOMES:
                    results.append(follow)
                    continue
                if alone is None:  # "..., the radiator to 18": a command of its own after all
                    alone = self._parse_one(part, registry, here, time.perf_counter(), prediction)
                    if _understood(alone) and alone.outcome in compound.OK_OUTCOMES:
                        results.append(replace(alone, text=part))
                        continue
            best = follow if follow is not None and follow.intent is not None else alone
            results.append(best or Parse(text=part, intent=None, confidence=prediction.confidence,
                                         reply=NOT_UNDERSTOOD, outcome="rejected"))  # fmt: skip
            failed.append(part)
            break
        combined = compound.combine(text, results, failed)
        return replace(combined, timings_ms={**combined.timings_ms, "total": _ms(started)})

    def _parse_one(self, cleaned: str, registry: Registry, context: Context, started: float,
                   prediction: Prediction | None = None, follow: bool = False, said: str = "") -> Parse:  # fmt: skip
        timings: dict[str, float] = {}
        if prediction is None:
            prediction = join_split_names(self.model.predict(cleaned), cleaned)
        timings["model"] = _ms(started)
        intent = schema.public_intent(prediction.label)
        label = prediction.label
        previous = context.previous
        follow_up = previous is not None and (follow or bool(_FOLLOW_UP_RE.search(cleaned))) and (follow or
            any(s.slot in _DEVICE_SLOTS for s in prediction.spans) or match_area(registry, cleaned) is not None)
        from_context = follow_up  # the intent comes from the last command, not from the model's confidence
        if follow_up and previous is not None:  # "and the bedroom too": the last command, somewhere else
            label = _label_of(previous)
            intent = previous.intent
        elif previous is not None and previous.targets and (on_off := _ON_OFF_RE.search(cleaned)) \
                and intent in (None, "HassTurnOn", "HassTurnOff", "HassCancelTimer", "HassPauseTimer", "HassUnpauseTimer"):
            # "turn it off" right after a device command means that device, not a timer
            label = intent = "HassTurnOn" if on_off.group(2).lower() == "on" else "HassTurnOff"
            from_context = True
        elif intent is None or _confidence(prediction) < self.settings.min_confidence:
            timings["total"] = _ms(started)
            return Parse(text=cleaned, intent=None, confidence=prediction.confidence, reply=NOT_UNDERSTOOD,
                         outcome="rejected", timings_ms=timings)  # fmt: skip
        if intent in _MOWER_TO_VALVE and _WATERING_RE.search(cleaned) and not _MOWING_RE.search(cleaned):
            label = intent = _MOWER_TO_VALVE[intent]  # watering is the valve's job: never start the mower for it
        prediction = _unknown_area_into_name(prediction, cleaned, registry)
        slots, spans = normalise_slots(prediction, label, cleaned)
        if follow_up and previous is not None:
            slots = {**{k: v for k, v in previous.slots.items() if k not in _DEVICE_SLOTS}, **slots}
            if not any(k in spans for k in _DEVICE_SLOTS) and (area := match_area(registry, cleaned)):
                spans["area"] = slots["area"] = area
        keep = INTENTS[intent].slots | set(_DEVICE_SLOTS)
        slots = {k: v for k, v in slots.items() if k in keep}
        context_area = registry.context_area(context.area)
        names = [name_variants(cleaned, s) for s in prediction.spans if s.slot == "name"]
        request = Request(cleaned, label, slots, spans, registry, Resolver(registry, self.meanings(registry)), self.settings,
                          context_area, context.now or datetime.now(), names)  # fmt: skip
        spoken_device = any(k in spans for k in _DEVICE_SLOTS)
        if previous is not None and not spoken_device and _PRONOUN_RE.search(cleaned):
            request.previous_targets = previous.targets
        if not spoken_device and not request.previous_targets and context.area is None \
                and _OBJECT_PRONOUN_RE.search(cleaned) and not _DUMMY_IT_RE.search(cleaned) and intent in _ACTS_ON_DEVICES:
            # "turn it off" with nothing said before: "it" is no device, and guessing one would act on it
            timings["total"] = _ms(started)
            return Parse(text=cleaned, intent=intent, confidence=prediction.confidence, slots=slots,
                         reply=WHICH_DEVICE, outcome="no_target", timings_ms=timings)  # fmt: skip
        outcome = INTENTS[intent].handle(request, INTENTS[intent])
        if outcome.actions and not from_context and prediction.confidence < self.settings.min_confidence_to_act:
            # sure enough to say what it heard, not to act on it ("Ok, Raspy" heard as "dim the lights")
            timings["total"] = _ms(started)
            return Parse(text=cleaned, intent=intent, confidence=prediction.confidence, slots=slots,
                         reply=NOT_SURE, outcome="unsure", timings_ms=timings)  # fmt: skip
        acted = list({a.device: registry.device(a.device) for a in outcome.actions}.values())

        def ask(devices: list[Device], reply: str) -> Parse:
            """Nothing is sent for these devices' direction; the reply asks which."""
            timings["total"] = _ms(started)
            return Parse(text=cleaned, intent=intent, confidence=prediction.confidence, slots=slots,
                         targets=tuple(sorted(d.id for d in devices)), reply=reply, outcome="unsure",
                         timings_ms=timings)  # fmt: skip

        if wrong := polarity.disagreeing(intent, acted, said or cleaned, slots):
            # the words say the opposite of the plan ("lock" heard, unlock planned): nothing is sent, it asks
            return ask(wrong, opposite_question(wrong))
        if not from_context and (guessed := polarity.undirected(intent, acted, said or cleaned)):
            # "turn the hallway light": neither on nor off said, so the model's choice would be a guess
            return ask(guessed, on_or_off_question(guessed))
        if not from_context and (guessed := polarity.unspoken(intent, acted, said or cleaned, slots)):
            # a lock, cover, valve or alarm and no word for a direction: the model's would be a guess
            return ask(guessed, opposite_question(guessed))
        if label in schema.INTERNAL_INTENTS and outcome.actions and not from_context \
                and not polarity.says_a_change(cleaned, acted):
            # a relative change needs a word that asks for one ("Pernoff the kitchen light" is not "dim")
            timings["total"] = _ms(started)
            return Parse(text=cleaned, intent=intent, confidence=prediction.confidence, slots=slots,
                         reply=NOT_SURE, outcome="unsure", timings_ms=timings)  # fmt: skip
        if len(outcome.targets) == 1 and is_shopping_list(outcome.targets[0]):  # HA's own intents for the shopping list
            intent = {"HassListAddItem": "HassShoppingListAddItem",
                      "HassListCompleteItem": "HassShoppingListCompleteItem"}.get(intent, intent)  # fmt: skip
        if intent == "HassFanSetSpeed" and outcome.targets and all(d.domain == "valve" for d in outcome.targets):
            intent = "HassSetPosition"  # a valve "to 50%" is opened that far: say what was done
        actions = tuple(outcome.actions)
        pending: tuple[Action, ...] = ()
        question = self._confirmation(intent, outcome, registry)
        pending_reply = ""
        if question:
            pending, actions = actions, ()
            pending_reply = outcome.reply
            outcome.kind, outcome.reply = "confirm", question
        timings["total"] = _ms(started)
        return Parse(
            text=cleaned,
            intent=intent,
            confidence=prediction.confidence,
            slots=slots,
            targets=tuple(sorted(d.id for d in outcome.targets)),
            actions=actions,
            reply=outcome.reply,
            outcome=outcome.kind,
            timings_ms=timings,
            pending_actions=pending,
            pending_reply=pending_reply,
        )

    def _confirmation(self, intent: str, outcome: Outcome, registry: Registry) -> str | None:
        """The question to ask before a sensitive action (unlocking, opening a garage door), or None."""
        if not outcome.actions:
            return None
        sensitive = []
        for action in outcome.actions:
            device = registry.device(action.device)
            if device.confirm is not None:
                risky = device.confirm
            elif device.domain in self.confirm.domains:
                risky = intent == "HassTurnOff"  # unlocking, disarming
            else:
                risky = device.device_class in self.confirm.device_classes and intent in ("HassTurnOn", "HassSetPosition")
            if risky:
                sensitive.append(device)
        if not sensitive:
            return None
        domain = sensitive[0].domain
        verb = {"HassTurnOff": {"lock": "unlock", "alarm_control_panel": "disarm"}.get(domain, "turn off"),
                "HassTurnOn": {"cover": "open", "alarm_control_panel": "arm"}.get(domain, "turn on")}.get(intent, "change")  # fmt: skip
        return confirm_question(verb, sensitive)


def _unknown_area_into_name(prediction: Prediction, text: str, registry: Registry) -> Prediction:
    """An area right before a name that names nothing by itself is part of that name: the tagger cut "living |
    room lamb" or "Living Room | Lamb" (a misheard "living room lamp") in two."""
    spans = list(prediction.spans)
    for i in range(len(spans) - 1):
        area, name = spans[i], spans[i + 1]
        if area.slot == "area" and name.slot == "name" and not text[area.end:name.start].strip():
            joined = Span("name", text[area.start:name.end], area.start, name.end)
            said = name.text.strip(" ,.!?").casefold()
            if registry.area(area.text.strip(" ,.")) is None:  # "living | room lamb"
                spans[i:i + 2] = [joined]
            elif not any(said == n.casefold() for d in registry.devices for n in (d.name, *d.aliases)):
                spans[i + 1] = joined  # "Living Room | Lamb": the name says the room
                spans[i + 1] = joined
            else:
                continue
            return replace(prediction, spans=tuple(spans))
    return prediction


def _understood(parse: Parse) -> bool:
    return parse.intent is not None and parse.outcome != "unsure"


_SAME_QUESTION = frozenset({"HassGetWeather", "HassClimateGetTemperature"})
"""Two intents that ask the same thing of different devices ("what's the temperature outside": the weather, or
an outside temperature sensor); both are answered from the registry, so the model's doubt between them is no
doubt about the question."""


def _confidence(prediction: Prediction) -> float:
    """The model's confidence in its intent, counting the runner-up when both ask the same question."""
    if {prediction.label, prediction.runner_up[0]} <= _SAME_QUESTION:
        return prediction.confidence + prediction.runner_up[1]
    return prediction.confidence


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
