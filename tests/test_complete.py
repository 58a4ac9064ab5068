"""Whether the words heard at a pause are a whole command (understanding.complete), on the real model."""

from __future__ import annotations

import pytest

from assistant.understanding.complete import why_wait


@pytest.mark.parametrize("text", [
    "turn on the kitchen light",
    "switch off the hallway light",
    "turn off the lights in the kitchen",
    "close the bedroom curtains",
    "set the living room lamp to 50%",
    "dim the kitchen lights to thirty percent",
    "set the bedroom fan to high",
])  # fmt: skip
def test_a_whole_command_may_be_acted_on_at_once(text, understander, registry):
    assert why_wait(understander.parse(text, registry), registry) is None


@pytest.mark.parametrize("text, reason", [
    ("turn on the", "outcome rejected"),                          # nothing yet
    ("turn on the kitchen light and", "expects more: 'and'"),     # a second command coming
    ("turn on the kitchen light and the", "expects more: 'the'"),
    ("turn off the lights in the", "expects more: 'the'"),        # the parser alone acts: the site's own room
    ("dim the", "expects more: 'the'"),                           # the parser alone acts: the site's own room
    ("set the living room lamp to", "expects more: 'to'"),        # the parser alone turns it on
    ("set the living room lamp to 50", "ends in a number"),       # "... 5", "... percent"
    ("set the heating to 20", "ends in a number"),                # "... 2"
    ("turn the kitchen light", "outcome unsure"),                 # the parser alone asks: on or off?
    ("put the kitchen light", "outcome unsure"),                  # "... on"; the parser alone asks: on or off?
    ("turn on the kitchen", "names a room but no device"),        # "... fan"; the model may tag "kitchen" a name
    ("turn on the living room", "names a room but no device"),    # "... lamp"
    ("turn off the lights", "names no device"),                   # "... in the hall"
    ("dim the kitchen lights", "may still be given a value"),     # "... to 30%"
    ("set the bedroom fan", "'set' without a value"),
    ("unlock the front door", "outcome confirm"),                 # a sensitive action is never rushed
    ("open the garage door", "outcome confirm"),
    ("what time is it", "outcome answer"),                        # no device action
])  # fmt: skip
def test_a_fragment_waits(text, reason, understander, registry):
    why = why_wait(understander.parse(text, registry), registry)
    assert why is not None and reason in why, why


def test_a_name_that_may_go_on_waits(understander, registry):
    from assistant.devices import Registry
    from tests.conftest import small_config

    home = Registry.from_config(small_config(
        "  - {id: light.desk, domain: light, name: Desk Lamp, area: Office, protocol: zigbee2mqtt, topic: zigbee2mqtt/desk}\n"
        "  - {id: light.strip, domain: light, name: Desk Lamp Strip, area: Office, protocol: zigbee2mqtt, topic: zigbee2mqtt/strip}\n"))
    why = why_wait(understander.parse("turn on the desk lamp", home), home)
    assert why is not None and "may go on to 'Desk Lamp Strip'" in why, why
    assert why_wait(understander.parse("turn on the desk lamp strip", home), home) is None
