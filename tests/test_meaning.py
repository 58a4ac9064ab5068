"""Names compared by meaning: the shipped model's embedding head, when no spelling or sound matches."""

from __future__ import annotations

import pytest

from assistant.devices import Registry
from assistant.understanding.parser import Context
from assistant.understanding.resolve import MEANING_ACT, Meanings

from .conftest import small_config


def parse(understander, registry, text):
    return understander.parse(text, registry, Context())


def test_the_model_embeds_by_meaning(understander):
    tv, television, kettle = understander.model.embed(["tv", "television", "kettle"])
    assert float(tv @ television) > float(tv @ kettle) + 0.3


@pytest.mark.parametrize(("text", "target"), [
    ("turn on the reading light", "light.living_room_lamp"),  # its alias is "reading lamp"
    ("switch on the bedside light", "light.bedside_lamp"),    # the Bedside Lamp
])  # fmt: skip
def test_a_name_meaning_a_device_is_acted_on(understander, registry, text, target):
    result = parse(understander, registry, text)
    assert [a.device for a in result.actions] == [target], result


@pytest.mark.parametrize("text", [
    "turn on the sauna heater",     # near the Office Heater only for the word they share
    "turn off the fridge",
    "turn on the pizza oven",
    "did you leave the straighteners on",
])  # fmt: skip
def test_a_name_meaning_no_device_sends_nothing(understander, registry, text):
    result = parse(understander, registry, text)
    assert result.actions == () and not result.pending_actions, result
    assert result.reply.startswith("Sorry"), result


def test_a_near_meaning_is_asked_about_and_nothing_is_sent(understander, registry):
    result = parse(understander, registry, "turn on the sauna heater")
    assert "Did you mean Office Heater?" in result.reply, result
    assert result.outcome == "no_target"


def test_the_names_are_embedded_again_when_the_registry_changes(understander):
    before = Registry.from_config(small_config("  - {id: switch.k, name: Kettle, area: Kitchen, domain: switch, protocol: tasmota, topic: k}\n"))
    after = Registry.from_config(small_config(
        "  - {id: switch.k, name: Kettle, area: Kitchen, domain: switch, protocol: tasmota, topic: k}\n"
        "  - {id: switch.tv, name: Television, area: Office, domain: switch, protocol: tasmota, topic: tv}\n"))
    first = understander.meanings(before)
    assert isinstance(first, Meanings) and understander.meanings(before) is first
    second = understander.meanings(after)
    assert second is not first and "switch.tv" in second.ids
    score, device, _ = second.nearest("tv", {"switch.k", "switch.tv"})[0]
    assert device == "switch.tv" and score >= MEANING_ACT


def test_a_model_without_the_embedding_head_resolves_as_before(config, registry):
    from assistant.understanding.parser import Understander

    class NoEmbedding:  # the runtime's check, not a stand-in for the model: only `embeds` is read
        embeds = False

    assert Understander(NoEmbedding(), config.understanding).meanings(registry) is None  # type: ignore[arg-type]


def test_the_weather_elsewhere_is_not_answered_with_ours(understander, registry):
    result = parse(understander, registry, "what's the weather in paris")
    assert result.outcome == "unsupported" and "only know the weather here" in result.reply, result
    assert parse(understander, registry, "what's the weather at home").outcome == "answer"


def test_an_area_tagged_as_a_name_keeps_the_kind_said_beside_it(understander, registry):
    result = parse(understander, registry, "turn on the kitchen fan")  # the kitchen has no fan: not its lights
    assert result.actions == (), result


def test_an_untagged_object_is_not_this_rooms_lights(understander, registry):
    result = parse(understander, registry, "switch on the gadget please")
    assert result.actions == () and "gadget" in result.reply, result
    water = parse(understander, registry, "turn on the water")  # the sprinkler ("watering"), never the lamps
    assert not any(a.device.startswith("light.") for a in water.actions), water
