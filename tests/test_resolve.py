"""Entity resolution against the example home, without the model: the spans are given."""

from __future__ import annotations

from assistant.understanding.plan import CONTROLLABLE
from assistant.understanding.resolve import Resolver, similarity


def resolve(registry, text, name=None, area=None, floor=None, domains=CONTROLLABLE, default=("light",),
            context="Living Room"):  # fmt: skip
    return Resolver(registry).resolve(text, name=name, area=area, floor=floor, domains=set(domains),
                                      default_domains=set(default), context_area=context)  # fmt: skip


def ids(resolution):
    return sorted(d.id for d in resolution.devices)


def test_exact_name_and_alias(registry):
    assert ids(resolve(registry, "turn on the living room lamp", name="living room lamp")) == ["light.living_room_lamp"]
    assert ids(resolve(registry, "turn on the big light", name="big light")) == ["light.living_room_ceiling"]


def test_misheard_names_still_match(registry):
    assert ids(resolve(registry, "turn on the living groom lamp", name="living groom lamp")) == ["light.living_room_lamp"]
    assert ids(resolve(registry, "kitchen sealing light", name="kitchen sealing light")) == ["light.kitchen_ceiling"]
    assert ids(resolve(registry, "start the cough fee machine", name="cough fee machine")) == ["switch.coffee_machine"]


def test_partial_name_uses_the_area(registry):
    # "ceiling light" fits four devices; said in the Kitchen it is the kitchen's.
    assert ids(resolve(registry, "ceiling light on", name="ceiling light", context="Kitchen")) == ["light.kitchen_ceiling"]
    assert ids(resolve(registry, "the ceiling light in the office", name="ceiling light", area="office")) == [
        "light.office_ceiling"]


def test_equal_candidates_are_ambiguous_and_ask(registry):
    result = resolve(registry, "turn on the ceiling light", name="ceiling light", context="Hallway")
    assert result.problem == "ambiguous"
    assert result.devices == []
    assert "Which one" in result.reply


def test_unknown_device_is_explained(registry):
    result = resolve(registry, "turn on the sauna heater", name="sauna heater")
    assert result.problem == "no_target"
    assert "sauna heater" in result.reply


def test_unknown_area_is_explained(registry):
    result = resolve(registry, "turn on the lights in the attic", area="attic")
    assert result.problem == "no_target"
    assert result.devices == []


def test_area_and_kind(registry):
    assert ids(resolve(registry, "turn off the lights in the kitchen", area="kitchen")) == [
        "light.kitchen_ceiling", "light.kitchen_counter"]
    assert ids(resolve(registry, "turn off the lights in the study", area="study")) == [
        "light.office_ceiling", "light.office_desk_lamp"]


def test_context_area_is_the_default(registry):
    assert ids(resolve(registry, "turn on the lights", context="Bedroom")) == ["light.bedroom_ceiling", "light.bedside_lamp"]


def test_all_the_lights_means_the_whole_home(registry):
    result = resolve(registry, "turn off all the lights")
    assert len(result.devices) == sum(d.domain == "light" for d in registry.devices)


def test_floor(registry):
    result = resolve(registry, "turn off the lights upstairs", floor="upstairs")
    assert {d.area for d in result.devices} == {"Office", "Bedroom", "Kids Room", "Bathroom", "Guest Bedroom"}
    assert all(d.domain == "light" for d in result.devices)


def test_device_class_words(registry):
    assert ids(resolve(registry, "open the garage")) == ["cover.garage_door"]
    assert ids(resolve(registry, "close the curtains", context="Bedroom")) == ["cover.bedroom_curtains"]
    assert ids(resolve(registry, "open the blinds")) == ["cover.living_room_blinds"]


def test_name_of_area_plus_kind_falls_back_to_a_group(registry):
    assert ids(resolve(registry, "turn on the kitchen lights", name="kitchen lights")) == [
        "light.kitchen_ceiling", "light.kitchen_counter"]


def test_intent_domains_filter_names(registry):
    # a light-only intent does not pick the switch called Garage Light, and says why
    result = resolve(registry, "dim the garage light", name="garage light", domains={"light"})
    assert result.devices == [] and result.problem == "unsupported"
    assert result.reply == "Sorry, Garage Light can't do that."


def test_similarity_is_symmetric_enough():
    assert similarity("living room lamp", "living room lamp") == 100
    assert similarity("tv", "tea") < 80
