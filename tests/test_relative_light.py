"""Relative brightness ("it's too bright", "dim the lamp") tells the truth about lights already at the end
of the step: the real shipped model, the light states written here, and what would be published."""

from __future__ import annotations

import json

from assistant.understanding.parser import Context

from .test_cli_parse import KEYS, run_parse

LIVING = {"light.living_room_lamp": {"state": "off", "brightness": 60},
          "light.living_room_ceiling": {"state": "on", "brightness": 80}}  # fmt: skip
KITCHEN = {"light.kitchen_ceiling": {"state": "on", "brightness": 100}, "light.kitchen_counter": {"state": "off"}}


def sent(result) -> dict[str, dict]:
    return {a.device: json.loads(a.payload) for a in result.actions}


def test_too_bright_sends_nothing_to_a_lamp_that_is_off(understander, registry):
    result = understander.parse("it's too bright in here", registry.with_state(LIVING), Context())
    assert result.intent == "HassLightSet" and result.outcome == "done"
    assert sent(result) == {"light.living_room_ceiling": {"state": "ON", "brightness": round(60 * 254 / 100)}}
    assert result.reply == "Dimmed the Living Room Ceiling Light. The Living Room Lamp is already off."
    # both are still what the command was about: "turn them on" next means both
    assert result.targets == ("light.living_room_ceiling", "light.living_room_lamp")


def test_dimming_only_lights_that_are_off_is_an_answer_and_sends_nothing(understander, registry):
    result = understander.parse("dim the living room lamp", registry.with_state(LIVING), Context())
    assert result.intent == "HassLightSet"
    assert (result.outcome, result.actions, result.reply) == ("answer", (), "The Living Room Lamp is already off.")
    assert result.targets == ("light.living_room_lamp",)
    kitchen = registry.with_state({"light.kitchen_ceiling": {"state": "off"}, "light.kitchen_counter": {"state": "off"}})
    both = understander.parse("it's too bright in the kitchen", kitchen, Context())
    assert (both.outcome, both.actions) == ("answer", ())
    assert both.reply == "The Kitchen Ceiling Light and the Kitchen Counter Lights are already off."


def test_too_dark_turns_on_a_light_that_is_off_and_leaves_one_at_full(understander, registry):
    result = understander.parse("it's too dark in the kitchen", registry.with_state(KITCHEN), Context())
    assert result.intent == "HassLightSet" and result.outcome == "done"
    assert sent(result) == {"light.kitchen_counter": {"state": "ON", "brightness": round(20 * 254 / 100)}}
    assert result.reply == ("Turned on the Kitchen Counter Lights at 20% brightness. "
                            "The Kitchen Ceiling Light is already at full brightness.")  # fmt: skip


def test_dimming_below_zero_says_it_turned_the_light_off(understander, registry):
    low = registry.with_state({"light.office_desk_lamp": {"state": "on", "brightness": 10}})
    result = understander.parse("dim the desk lamp", low, Context())
    assert sent(result) == {"light.office_desk_lamp": {"state": "OFF"}}
    assert result.reply == "Turned off the Desk Lamp."
    middle = registry.with_state({"light.office_desk_lamp": {"state": "on", "brightness": 50}})
    assert understander.parse("dim the desk lamp", middle, Context()).reply == "Dimmed the Desk Lamp."


def test_unknown_state_still_steps(understander, registry):
    """The bedside lamp has never reported: a step is sent, and the reply says what was asked."""
    result = understander.parse("brighten the bedside lamp", registry, Context())
    assert sent(result) == {"light.bedside_lamp": {"brightness_step": round(20 * 254 / 100)}}
    assert result.reply == "Brightened the Bedside Lamp."


def test_cli_parse_keeps_its_keys_for_a_light_already_off():
    """config.yaml's living room lamp is off: `assistant parse` sends nothing and says so."""
    (out,) = run_parse("dim the living room lamp")
    assert KEYS <= out.keys()
    assert (out["outcome"], out["actions"], out["reply"]) == ("answer", [], "The Living Room Lamp is already off.")
    assert [c["outcome"] for c in out["commands"]] == ["answer"]
