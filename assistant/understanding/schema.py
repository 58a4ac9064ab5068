"""The label schema shared by the trained model and the runtime.

The model has two heads over one MiniLM encoder:

* ``intent_logits`` ``[batch, len(INTENT_LABELS)]``: one label per sentence.
* ``tag_logits`` ``[batch, tokens, len(TAG_LABELS)]``: BIO tags over word pieces.
  The first word piece of a span is ``B-<slot>``, the following ones ``I-<slot>``,
  everything else ``O``; special tokens ([CLS], [SEP], padding) are trained as ``O``.

Intent labels are Home Assistant intent names, plus a few *internal* labels that
carry a direction the HA schema puts in a slot (``HassLightSet`` with a signed
``brightness_step``); :data:`INTERNAL_INTENTS` maps them to the public name.
``NO_INTENT`` is the "not for me" class trained on out-of-domain sentences.

Changing these lists changes the meaning of the model's outputs: the metadata file
shipped with a model records the lists it was trained with, and the runtime refuses a
model whose lists differ from these.
"""

from __future__ import annotations

NO_INTENT = "none"

# Public intents (Home Assistant names, from the home-assistant-intents package, CC BY 4.0).
HA_INTENTS: tuple[str, ...] = (
    "HassTurnOn",
    "HassTurnOff",
    "HassLightSet",
    "HassGetState",
    "HassSetPosition",
    "HassClimateSetTemperature",
    "HassClimateGetTemperature",
    "HassFanSetSpeed",
    "HassVacuumStart",
    "HassVacuumReturnToBase",
    "HassMediaPause",
    "HassMediaUnpause",
    "HassMediaNext",
    "HassMediaPrevious",
    "HassSetVolume",
    "HassSetVolumeRelative",
    "HassMediaPlayerMute",
    "HassMediaPlayerUnmute",
    "HassStartTimer",
    "HassCancelTimer",
    "HassCancelAllTimers",
    "HassPauseTimer",
    "HassUnpauseTimer",
    "HassTimerStatus",
    "HassIncreaseTimer",
    "HassDecreaseTimer",
    "HassGetCurrentTime",
    "HassGetCurrentDate",
    "HassGetWeather",
    "HassListAddItem",
    "HassShoppingListAddItem",
    "HassNevermind",
    "HassBroadcast",
    "HassClimateSetFanMode",
    "HassLawnMowerDock",
    "HassLawnMowerStartMowing",
    "HassListCompleteItem",
    "HassListRemoveItem",
    "HassMediaSearchAndPlay",
    "HassRespond",
    "HassShoppingListCompleteItem",
    "HassVacuumCleanArea",
)

# Internal labels: relative changes, whose direction the classifier decides.
# label -> (public intent, step slot, sign)
INTERNAL_INTENTS: dict[str, tuple[str, str, int]] = {
    "LightBrighter": ("HassLightSet", "brightness_step", +1),
    "LightDimmer": ("HassLightSet", "brightness_step", -1),
    "ClimateWarmer": ("HassClimateSetTemperature", "temperature_step", +1),
    "ClimateCooler": ("HassClimateSetTemperature", "temperature_step", -1),
    "VolumeUp": ("HassSetVolumeRelative", "volume_step", +1),
    "VolumeDown": ("HassSetVolumeRelative", "volume_step", -1),
}

INTENT_LABELS: tuple[str, ...] = (NO_INTENT, *HA_INTENTS, *INTERNAL_INTENTS)

# Span types tagged by the model. Values are normalised by assistant.understanding.normalize.
#   name        a device's spoken name ("living room lamp"), or a list's name for the list intents
#   area        an area ("kitchen")
#   floor       a floor ("upstairs", "first floor")
#   brightness  an absolute brightness ("30 percent", "half", "max")
#   color       a colour ("red", "warm white" is color_temp)
#   color_temp  a colour temperature ("warm white", "4000 kelvin", "daylight")
#   position    a cover position ("50 percent", "half way")
#   volume      an absolute volume ("40 percent", "level 4")
#   percentage  a fan speed ("50 percent", "max", "low")
#   temperature an absolute temperature ("21 degrees", "seventy two fahrenheit")
#   step        the size of a relative change ("by 20 percent", "by 2 degrees")
#   duration    a timer duration ("ten minutes", "an hour and a half")
#   item        a list item ("milk", "call the plumber")
#   state       a state asked about ("open", "on", "locked")
#   message     what to broadcast ("dinner is ready")
#   query       what to search for and play ("some jazz", "the new Taylor Swift album")
#   media_class the kind of media asked for ("album", "playlist", "podcast", "radio station")
#   fan_mode    a climate device's fan mode ("auto", "low", "high")
SLOT_TYPES: tuple[str, ...] = (
    "name",
    "area",
    "floor",
    "brightness",
    "color",
    "color_temp",
    "position",
    "volume",
    "percentage",
    "temperature",
    "step",
    "duration",
    "item",
    "state",
    "message",
    "query",
    "media_class",
    "fan_mode",
)

TAG_LABELS: tuple[str, ...] = ("O", *(f"{p}-{s}" for s in SLOT_TYPES for p in ("B", "I")))

MAX_TOKENS = 48
"""Sentences are truncated to this many word pieces (special tokens included)."""

ONNX_INPUTS: tuple[str, ...] = ("input_ids", "attention_mask")
"""int64 ``[batch, tokens]`` each."""

ONNX_OUTPUTS: tuple[str, ...] = ("intent_logits", "tag_logits")

EMBEDDING_OUTPUT = "embedding"
"""A model's optional third output: ``[batch, hidden]`` float, unit length: the input's meaning, distilled
from the base sentence encoder (names compared by meaning, ``resolve``)."""


def public_intent(label: str) -> str | None:
    """The Home Assistant intent name for a model label (None for NO_INTENT)."""
    if label == NO_INTENT:
        return None
    if label in INTERNAL_INTENTS:
        return INTERNAL_INTENTS[label][0]
    return label
