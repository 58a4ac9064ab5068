"""The confidence rule as the README states it, on a model whose confidence the test chooses: below
min_confidence nothing is understood, below min_confidence_to_act nothing is sent, and a follow-up to the
previous command (its intent read from that command and the words) acts at any confidence."""

from __future__ import annotations

import pytest

from assistant.config import Understanding
from assistant.understanding.context import Context, Previous
from assistant.understanding.model import Prediction, Span
from assistant.understanding.parser import Understander

from .conftest import ROOT

LAMP = "light.office_desk_lamp"


class FixedModel:
    """Stands in for NluModel: one label at one confidence, with the spans found by their words."""

    def __init__(self, label: str, confidence: float, **slots: str) -> None:
        self.label, self.confidence, self.slots = label, confidence, slots

    def predict(self, text: str) -> Prediction:
        spans = []
        for slot, words in self.slots.items():
            start = text.lower().index(words)
            spans.append(Span(slot, text[start:start + len(words)], start, start + len(words)))
        return Prediction(self.label, self.confidence, tuple(spans))


def understand(text: str, registry, model: FixedModel, previous: Previous | None = None):
    return Understander(model, Understanding()).parse(text, registry, Context(previous=previous))  # type: ignore[arg-type]


@pytest.fixture
def lamp_on(registry) -> Previous:
    """The previous command: the desk lamp switched on."""
    first = understand("turn on the desk lamp", registry, FixedModel("HassTurnOn", 0.99, name="desk lamp"))
    assert first.targets == (LAMP,) and first.outcome == "done"
    previous = Previous.of(first)
    assert previous is not None
    return previous


def test_below_min_confidence_nothing_is_understood(registry):
    result = understand("turn off the desk lamp", registry, FixedModel("HassTurnOff", 0.55, name="desk lamp"))
    assert result.intent is None and result.outcome == "rejected" and result.actions == ()


def test_between_the_thresholds_it_says_it_is_not_sure_and_sends_nothing(registry):
    result = understand("turn off the desk lamp", registry, FixedModel("HassTurnOff", 0.7, name="desk lamp"))
    assert result.intent == "HassTurnOff" and result.outcome == "unsure" and result.actions == ()


def test_at_min_confidence_to_act_it_acts(registry):
    result = understand("turn off the desk lamp", registry, FixedModel("HassTurnOff", 0.8, name="desk lamp"))
    assert result.outcome == "done" and [a.device for a in result.actions] == [LAMP]


@pytest.mark.parametrize("label", ["HassTurnOff", "HassTurnOn", "HassCancelTimer", "none"])
def test_turn_it_off_after_a_command_acts_at_any_confidence(registry, lamp_on, label):
    result = understand("turn it off", registry, FixedModel(label, 0.55), previous=lamp_on)
    assert result.intent == "HassTurnOff" and result.outcome == "done"
    assert [(a.device, a.payload) for a in result.actions] == [(LAMP, '{"state":"OFF"}')]
    assert result.confidence == 0.55


def test_turn_it_off_that_the_model_takes_for_another_command_follows_the_rule(registry, lamp_on):
    result = understand("turn it off", registry, FixedModel("HassLightSet", 0.55), previous=lamp_on)
    assert result.outcome == "rejected" and result.actions == ()


def test_and_the_kitchen_too_repeats_the_previous_command_at_any_confidence(registry, lamp_on):
    result = understand("and the kitchen too", registry, FixedModel("none", 0.3, area="kitchen"),
                        previous=lamp_on)  # fmt: skip
    assert result.intent == "HassTurnOn" and result.outcome == "done"
    assert result.actions and all(a.device.startswith("light.kitchen") for a in result.actions)


def test_without_a_previous_command_turn_it_off_follows_the_rule(registry):
    result = understand("turn it off", registry, FixedModel("HassTurnOff", 0.55))
    assert result.outcome == "rejected" and result.actions == ()


def test_the_readme_states_the_rule_with_the_defaults():
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    defaults = Understanding()
    assert f"`understanding.min_confidence` ({defaults.min_confidence:g})" in readme
    assert f"`understanding.min_confidence_to_act` ({defaults.min_confidence_to_act:g})" in readme
    rule = readme[readme.index("### The confidence rule"):]
    rule = rule[:rule.index(" #", 5)]
    for words in ("turn it off", "and the bedroom too", "at any confidence", "`daemon.follow_up_s`",
                  "`context.previous`"):  # fmt: skip
        assert words in rule, words
