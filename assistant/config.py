"""Configuration: pydantic models, one per section, and a loader whose errors name the YAML line.

Defaults are declared here once; the CLI never repeats them.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, TypeAlias

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError

DOMAINS = (
    "light", "switch", "fan", "cover", "lock", "climate", "media_player", "vacuum", "valve",
    "sensor", "binary_sensor", "scene", "script", "todo", "humidifier", "alarm_control_panel",
    "person", "weather", "lawn_mower", "button", "input_boolean",
)  # fmt: skip
STATE_ONLY_DOMAINS = ("person", "weather")
"""Domains that only report state: nothing is ever sent to them."""

# Actions a device can be asked to do, and the template fields each one provides.
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "turn_on": (),
    "turn_off": (),
    "open": (),
    "close": (),
    "stop": (),
    "lock": (),
    "unlock": (),
    "pause": (),
    "play": (),
    "next": (),
    "previous": (),
    "mute": (),
    "unmute": (),
    "start": (),
    "return_to_base": (),
    "activate": (),
    "set_brightness": ("brightness", "brightness_255"),
    "step_brightness": ("step", "step_255"),
    "volume_up": (),
    "volume_down": (),
    "set_color": ("color", "r", "g", "b", "hex"),
    "set_color_temp": ("kelvin", "mireds"),
    "set_position": ("position",),
    "set_temperature": ("temperature", "unit"),
    "set_percentage": ("percentage",),
    "set_volume": ("volume", "volume_level"),
    "add_item": ("item",),
    "complete_item": ("item",),
    "remove_item": ("item",),
    "arm_away": (),
    "disarm": (),
    "press": (),
    "dock": (),
    "set_fan_mode": ("fan_mode",),
    "play_media": ("query", "media_class"),
    "clean_area": ("area", "area_id", "segment"),
}

_ID_RE = re.compile(r"^[a-z_]+\.[a-z0-9_]+$")

Loc: TypeAlias = tuple[str | int, ...]
"""Where a value is in the document: mapping keys and list indexes, e.g. ("devices", 3, "area")."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Site(_Model):
    id: str = Field("default", description="This assistant's id, used in its MQTT topics.", pattern=r"^[\w-]+$")
    area: str | None = Field(None, description="The area this assistant stands in.")


class Area(_Model):
    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    floor: str | None = None


class Floor(_Model):
    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)


class CommandTemplate(_Model):
    """One generic action: an MQTT topic and a payload template with ``{field}`` placeholders."""

    topic: str = Field(min_length=1)
    payload: str = ""
    qos: int = Field(1, ge=0, le=2)
    retain: bool = False

    @field_validator("topic")
    @classmethod
    def _no_wildcards(cls, topic: str) -> str:
        if "+" in topic or "#" in topic:
            raise ValueError("a command topic cannot contain MQTT wildcards (+ or #)")
        return topic


def template_fields(template: str) -> list[str]:
    """The ``{field}`` names a payload template uses (raises ValueError on a malformed one)."""
    names = []
    for _literal, name, spec, conv in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier() or spec or conv:
            raise ValueError(f"template field {{{name}}} must be a plain name, like {{brightness}}")
        names.append(name)
    return names


class Device(_Model):
    id: str = Field(description="Home Assistant style <domain>.<object_id>.")
    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    area: str | None = None
    domain: Literal[DOMAINS]  # type: ignore[valid-type]
    device_class: str | None = None
    protocol: Literal["zigbee2mqtt", "tasmota", "generic"]
    topic: str | None = Field(None, description="zigbee2mqtt base topic, or tasmota device topic.")
    commands: dict[str, CommandTemplate] = Field(default_factory=dict)
    features: list[Literal["brightness", "color", "color_temp"]] | None = None
    state: dict[str, Any] = Field(default_factory=dict, description="Known state, e.g. {state: on}.")
    state_topic: str | None = Field(None, description="generic: where the device publishes its state.")
    state_key: str | None = Field(None, description="generic: the JSON key holding the state; else the whole payload.")
    confirm: bool | None = Field(None, description="Ask before acting; default from the confirm section.")
    fan_modes: list[str] | None = Field(None, description="climate, fan: the fan modes it offers (auto, low, ...); "
                                                          "none: any mode asked for is sent.")  # fmt: skip
    segments: dict[str, str] = Field(default_factory=dict,
                                     description="vacuum: area name -> the robot's map segment id, for clean_area.")  # fmt: skip

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID_RE.match(value):
            raise ValueError("must look like domain.object_id, e.g. light.kitchen_ceiling")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Device:
        if self.id.split(".", 1)[0] != self.domain:
            raise ValueError(f"id {self.id!r} does not start with its domain {self.domain!r}")
        if self.domain in STATE_ONLY_DOMAINS and (self.commands or self.protocol != "generic"):
            raise ValueError(f"a {self.domain} only reports state: protocol generic with a `state_topic`, no `commands`")
        if self.fan_modes is not None and self.domain not in ("climate", "fan"):
            raise ValueError("`fan_modes` is only for climate and fan devices")
        if self.segments and self.domain != "vacuum":
            raise ValueError("`segments` is only for vacuums")
        clean_area = self.commands.get("clean_area")
        if clean_area is not None and not self.segments and "segment" in (
                template_fields(clean_area.topic) + template_fields(clean_area.payload)):  # fmt: skip
            raise ValueError("commands.clean_area uses {segment}: list the map segment of each area in `segments`")
        if self.protocol == "generic":
            if not self.commands and not self.state_topic:
                raise ValueError("a generic device needs `commands` (a topic and payload per action) or a `state_topic`")
            for action, command in self.commands.items():
                if action not in ACTION_FIELDS:
                    raise ValueError(f"unknown action {action!r} in commands; known: {', '.join(ACTION_FIELDS)}")
                allowed = ACTION_FIELDS[action]
                for name in template_fields(command.payload) + template_fields(command.topic):
                    if name not in allowed:
                        raise ValueError(
                            f"commands.{action}: unknown template field {{{name}}};"
                            f" {action} provides: {', '.join(allowed) or 'none'}"
                        )
        else:
            if not self.topic:
                raise ValueError(f"a {self.protocol} device needs `topic`")
            if "+" in self.topic or "#" in self.topic:
                raise ValueError("topic cannot contain MQTT wildcards (+ or #)")
            if self.commands:
                raise ValueError("`commands` is only for protocol: generic")
        return self


class Understanding(_Model):
    model: str = Field("models/nlu.int8.onnx", description="The int8 ONNX model; relative to the config file.")
    min_confidence: float = Field(0.6, ge=0.0, le=1.0, description="Below this, nothing is done.")
    min_confidence_to_act: float = Field(0.8, ge=0.0, le=1.0,
                                         description="Sending device messages needs this much: a misheard "
                                                     "sentence must not switch anything.")  # fmt: skip
    brightness_step: int = Field(20, ge=1, le=100, description="Default size of 'brighter'/'dim', in points.")
    temperature_step: float = Field(1.0, gt=0, le=10, description="Default size of 'warmer', in degrees.")
    volume_step: int = Field(10, ge=1, le=100, description="Default size of 'louder', in points.")
    temperature_unit: Literal["C", "F"] = "C"
    threads: int = Field(1, ge=1, le=16, description="ONNX Runtime intra-op threads.")


class Confirm(_Model):
    """Sensitive actions (unlocking, opening a garage door or gate, disarming) are asked about first."""

    domains: list[str] = Field(default_factory=lambda: ["lock", "alarm_control_panel"],
                               description="Unlocking / disarming these domains asks first.")  # fmt: skip
    device_classes: list[str] = Field(default_factory=lambda: ["garage", "gate"],
                                      description="Opening covers of these classes asks first.")  # fmt: skip
    window_s: float = Field(15.0, gt=0, le=120, description="How long a 'yes' is accepted after the question.")


class Tls(_Model):
    ca_file: str | None = Field(None, description="CA certificate (PEM) the broker's certificate is checked against.")
    cert_file: str | None = Field(None, description="Client certificate (PEM), for brokers that require one.")
    key_file: str | None = Field(None, description="Client key (PEM).")
    check_hostname: bool = Field(True, description="Check the broker's certificate matches mqtt.host.")

    @model_validator(mode="after")
    def _pair(self) -> Tls:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        return self


class Mqtt(_Model):
    """The broker. Username and password are never written here: they come from the environment
    (ASSISTANT_MQTT_USERNAME, ASSISTANT_MQTT_PASSWORD) or from systemd credentials
    ($CREDENTIALS_DIRECTORY/mqtt_username, $CREDENTIALS_DIRECTORY/mqtt_password)."""

    host: str = "localhost"
    port: int = Field(1883, ge=1, le=65535)
    prefix: str = Field("assistant", pattern=r"^[^#+/][^#+]*$", description="Own topics: <prefix>/<site>/...")
    client_id: str | None = Field(None, description="Default: assistant-<site>.")
    keepalive_s: int = Field(30, ge=5, le=3600)
    protocol: Literal["5", "3.1.1"] = "5"
    tls: Tls | None = None
    reconnect_min_s: float = Field(1.0, gt=0, le=60)
    reconnect_max_s: float = Field(30.0, gt=0, le=3600, description="Cap of the exponential back-off.")
    delivery_timeout_s: float = Field(3.0, gt=0, le=30,
                                      description="Counted from a command's arrival: a device command not delivered in this time "
                                                  "is never sent late, and a command that waited longer is answered 'too late'.")  # fmt: skip
    max_payload_bytes: int = Field(4096, ge=256, le=1_048_576, description="Larger commands are dropped.")
    max_state_bytes: int = Field(262_144, ge=1024, le=16_777_216, description="Larger state/discovery messages are dropped.")
    commands_per_minute: int = Field(30, ge=1, le=6000, description="Per source; more are dropped.")
    commands_per_minute_total: int = Field(120, ge=1, le=60000,
                                           description="All sources together (a source is whatever the sender writes).")  # fmt: skip
    discovery: bool = Field(True, description="Read Home Assistant MQTT discovery and Zigbee2MQTT bridge/devices.")
    discovery_prefix: str = "homeassistant"
    zigbee2mqtt_base: str = "zigbee2mqtt"


class Discovery(_Model):
    """Which devices announced over MQTT (mqtt.discovery) are taken in. Whatever is taken in never commands
    a configured device's topics, the assistant's own, the discovery prefix or the Zigbee2MQTT bridge
    (assistant.devices.trust)."""

    allow: list[str] = Field(default_factory=list,
                             description="Glob patterns (fnmatch, case-insensitive) matched against a discovered "
                                         "device's id (light.porch), its name, its discovery topic and, for "
                                         "zigbee2mqtt, its base topic; a device matching none is ignored. Empty "
                                         "(the default): every device may be discovered. Ids and names are chosen "
                                         "by whoever publishes the announcement: with broker ACLs, allow topics.")  # fmt: skip
    max_devices: int = Field(500, ge=0, le=100_000, description="Discovered devices beyond this many are refused.")

    @field_validator("allow")
    @classmethod
    def _patterns(cls, patterns: list[str]) -> list[str]:
        if any(not p.strip() for p in patterns):
            raise ValueError("an allow pattern cannot be empty")
        return patterns


class Daemon(_Model):
    follow_up_s: float = Field(20.0, ge=0, le=300, description="'turn it off' refers to the last command this long.")
    watchdog: bool = True
    queue_size: int = Field(1000, ge=10, le=100_000, description="Incoming messages waiting; the oldest are dropped.")


class Audio(_Model):
    """The microphone and voice activity. With no `input`, `assistant run` is text-only."""

    input: str | int | None = Field(None, description="Microphone: a sounddevice name (substring) or index; none = text-only.")
    rate_hz: int | None = Field(None, ge=8000, le=192_000, description="Capture rate; default: the device's own.")
    channels: int = Field(1, ge=1, le=32, description="Captured channels, mixed down to mono.")
    queue_ms: int = Field(3000, ge=200, le=60_000, description="Captured audio waiting for processing; the oldest is dropped.")
    vad_threshold: float = Field(0.5, gt=0, lt=1, description="Silero VAD speech probability that counts as speech.")
    min_speech_ms: int = Field(96, ge=32, le=2000, description="Speech shorter than this starts nothing.")
    pre_roll_ms: int = Field(300, ge=0, le=2000, description="Audio kept from before speech starts.")
    end_silence_ms: int = Field(400, ge=64, le=5000, description="Silence that ends an utterance.")
    speculate_ms: int = Field(64, ge=0, le=5000,
                              description="Recognition starts after this much silence, while the end-of-speech "
                                          "silence is still being waited for (and act_early_ms, when acting early); "
                                          "0 waits for the end.")  # fmt: skip
    act_early: bool = Field(True,
                            description="Act at a pause of act_early_ms when the words so far are a whole command "
                                        "(a confident device action, every device said, no word that expects more, "
                                        "no confirmation needed); a fragment waits for end_silence_ms. Speech that "
                                        "goes on after an early action is a new utterance. Needs speculate_ms > 0 "
                                        "and the whisper engine (vosk always waits).")  # fmt: skip
    act_early_ms: int = Field(160, ge=32, le=5000,
                              description="act_early: the pause after which a whole command is acted on. What was "
                                          "recognised at speculate_ms is used when no speech came since; a shorter "
                                          "value than speculate_ms acts at speculate_ms.")  # fmt: skip
    max_utterance_s: float = Field(12.0, gt=0.5, le=120, description="Longer speech is cut here.")
    level_gate_db: float = Field(15.0, ge=0, le=60,
                                 description="Speech this many dB below the utterance's loudest counts as silence "
                                             "(background talk, a radio), and speech this much louder than all before "
                                             "starts the utterance afresh; 0: off.")  # fmt: skip
    idle_timeout_s: float = Field(8.0, gt=0, le=300, description="Listening opened by a wake phrase or MQTT closes after this much audio with no speech.")
    reopen_max_s: float = Field(30.0, gt=0, le=3600, description="A vanished microphone is reopened with back-off capped here.")

    @property
    def act_pause_ms(self) -> int:
        """The pause a whole command is acted on at (``act_early``): ``act_early_ms``, and never before the words
        are recognised (``speculate_ms``)."""
        return max(self.act_early_ms, self.speculate_ms)


class Asr(_Model):
    engine: Literal["auto", "whisper", "vosk"] = Field("auto", description="auto: whisper if installed, else vosk.")
    model: str | None = Field(None, description="A model id (`assistant models list`) or a folder; default per engine.")
    language: str = Field("en", min_length=2, max_length=8)
    threads: int = Field(2, ge=1, le=16, description="CPU threads for recognition.")
    beam_size: int = Field(1, ge=1, le=10, description="whisper: 1 is greedy and fastest; grammar first starts "
                                                       "from this many hypotheses (the n-best).")  # fmt: skip
    bias: bool = Field(True, description="Bias recognition toward the registry's device and area names.")
    grammar: bool = Field(True, description="Grammar first: the home's sentences (intent templates with its names) "
                                            "before open recognition. whisper: the nearest sentences are scored on "
                                            "the audio beside the open transcript; vosk: a grammar of their words.")  # fmt: skip
    grammar_min_confidence: float = Field(0.75, ge=0, le=1,
                                          description="vosk: below this word confidence, open recognition is used; "
                                                      "whisper: a grammar sentence whose meaning has less than this "
                                                      "share of the probability is `unsure`, never acted on.")  # fmt: skip
    open_min_confidence: float = Field(0.45, ge=0, le=1,
                                       description="whisper: an open transcript (not a sentence of the home's grammar) "
                                                   "whose mean token probability is below this is `unsure`, never "
                                                   "acted on (0: off).")  # fmt: skip
    max_no_speech: float = Field(0.6, ge=0, le=1, description="whisper: drop transcripts it thinks are not speech.")
    window_s: int = Field(15, ge=10, le=30,
                          description="whisper: seconds of audio encoded per utterance (longer speech: all of it); "
                                      "30 is whisper's own window, about twice as slow with 60 MB more memory for "
                                      "a moment. A decoding that repeats itself on the window is redone on 30.")  # fmt: skip


class Wake(_Model):
    mode: Literal["always", "phrase", "mqtt", "openwakeword"] | None = Field(
        None, description="What opens listening. Unset: openwakeword when `models` are given, else phrase when a "
                          "microphone is set (audio.input), else always (files, Wyoming: every utterance is for us)")  # fmt: skip
    phrase: str = Field("hey computer", min_length=2, description="mode phrase: what a command must start with.")
    models: list[str] = Field(default_factory=list,
                              description="mode openwakeword: your own openWakeWord models (.onnx or .tflite files).")  # fmt: skip
    threshold: float = Field(0.5, gt=0, lt=1, description="mode openwakeword: the score (0..1) that counts as the wake word.")
    min_similarity: float = Field(0.75, gt=0, le=1, description="Fuzzy match of the heard words to the phrase, 0..1.")
    listen_s: float = Field(8.0, gt=0, le=120, description="A wake phrase alone or <prefix>/<site>/listen opens listening this long.")
    follow_up_s: float = Field(6.0, ge=0, le=120, description="After a reply, the next utterance needs no wake phrase this long.")

    @property
    def spoken(self) -> tuple[str, ...]:
        """The wake phrase, for biasing the recogniser, in the modes where it is said."""
        return (self.phrase,) if self.mode in ("phrase", "openwakeword") else ()

    @model_validator(mode="after")
    def _models(self) -> Wake:
        if self.mode == "openwakeword" and not self.models:
            raise ValueError("mode openwakeword needs `models`: the paths of your openWakeWord .onnx or .tflite files")
        suffixes = {Path(m).suffix for m in self.models}
        if not suffixes <= {".onnx", ".tflite"} or len(suffixes) > 1:
            raise ValueError("`models` must all be .onnx files or all be .tflite files")
        return self


class Tts(_Model):
    engine: Literal["auto", "piper", "espeak", "none"] = Field("auto", description="auto: piper if installed, else espeak-ng.")
    voice: str = Field("en_US-joe-medium", description="Piper voice id or .onnx path; espeak-ng voice for espeak.")
    output: str | int | None = Field(None, description="Speaker: a sounddevice name or index; default device if none.")
    speak_replies: bool = Field(True, description="Speak replies to spoken commands (only when a microphone is in use).")


class Satellite(_Model):
    """A microphone in a room, running ``wyoming-satellite`` (or anything speaking the satellite events)."""

    id: str = Field(pattern=r"^[\w.-]{1,64}$", description="The satellite's name: its conversation (follow-ups, "
                                                          "confirmations) and the `source` of its commands.")  # fmt: skip
    area: str = Field(min_length=1, description="The room it stands in: 'turn on the lights' means this room's lights.")
    uri: str | None = Field(None, pattern=r"^tcp://[^/]+:\d+$",
                            description="Where the satellite listens (tcp://host:port; wyoming-satellite's --uri): "
                                        "the assistant connects to it, as Home Assistant does.")  # fmt: skip


class Wyoming(_Model):
    """The Wyoming services (Home Assistant's voice protocol): conversation (handle or intent), speech to
    text, text to speech, and satellites. Off unless `uri` is set. Wyoming has no authentication: anyone who
    can reach the port can command the home, so it binds to loopback unless told otherwise."""

    uri: str | None = Field(None, pattern=r"^tcp://[^/]+:\d+$",
                            description="Where to listen, e.g. tcp://127.0.0.1:10700; none: no Wyoming server. "
                                        "tcp://0.0.0.0:10700 opens it to the LAN.")  # fmt: skip
    mode: Literal["handle", "intent"] = Field("handle",
                                              description="handle: act over MQTT and answer with the reply; "
                                                          "intent: answer Home Assistant's intent and slots, "
                                                          "act on nothing.")  # fmt: skip
    satellites: list[Satellite] = Field(default_factory=list, description="Satellites and the room each is in.")
    allow: list[str] = Field(default_factory=list,
                             description="Peer addresses (IPs) allowed to connect; empty: any that can reach "
                                         "`uri` (loopback only by default).")  # fmt: skip
    max_connections: int = Field(8, ge=1, le=1000, description="More simultaneous connections are closed at once.")
    max_audio_s: float = Field(30.0, gt=0, le=600, description="Audio sent for one transcription beyond this is "
                                                              "refused (speech to text).")  # fmt: skip
    answer_timeout_s: float = Field(10.0, gt=0, le=120, description="A command not answered by then is `not-handled`.")
    idle_timeout_s: float = Field(300.0, gt=0, le=86_400, description="A connection silent this long is closed.")
    zeroconf: bool | None = Field(None, description="Advertise the server over zeroconf (mDNS, `_wyoming._tcp`) so "
                                                    "Home Assistant discovers it; unset: when `uri` is not loopback.")  # fmt: skip
    zeroconf_name: str | None = Field(None, pattern=r"^[^.]{1,63}$",
                                      description="The advertised name, Home Assistant's id for it: keep it the same "
                                                  "across restarts; unset: assistant-<hostname>.")  # fmt: skip

    @field_validator("allow")
    @classmethod
    def _addresses(cls, addresses: list[str]) -> list[str]:
        import ipaddress

        for address in addresses:
            ipaddress.ip_address(address)  # ValueError names the bad one
        return addresses

    @model_validator(mode="after")
    def _unique(self) -> Wyoming:
        ids = [s.id for s in self.satellites]
        if len(set(ids)) != len(ids):
            raise ValueError("satellite ids must be unique")
        return self


class Config(_Model):
    site: Site = Field(default_factory=Site)  # type: ignore[arg-type]
    areas: list[Area] = Field(default_factory=list)
    floors: list[Floor] = Field(default_factory=list)
    devices: list[Device] = Field(default_factory=list)
    understanding: Understanding = Field(default_factory=Understanding)  # type: ignore[arg-type]
    confirm: Confirm = Field(default_factory=Confirm)  # type: ignore[arg-type]
    mqtt: Mqtt = Field(default_factory=Mqtt)  # type: ignore[arg-type]
    discovery: Discovery = Field(default_factory=Discovery)  # type: ignore[arg-type]
    daemon: Daemon = Field(default_factory=Daemon)  # type: ignore[arg-type]
    audio: Audio = Field(default_factory=Audio)  # type: ignore[arg-type]
    asr: Asr = Field(default_factory=Asr)  # type: ignore[arg-type]
    wake: Wake = Field(default_factory=Wake)  # type: ignore[arg-type]
    tts: Tts = Field(default_factory=Tts)  # type: ignore[arg-type]
    wyoming: Wyoming = Field(default_factory=Wyoming)  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _wake_default(self) -> Config:
        """A microphone hears the TV and the room's talk: unless told otherwise, it needs the wake phrase."""
        if self.wake.mode is None:
            mode = "openwakeword" if self.wake.models else "phrase" if self.audio.input is not None else "always"
            object.__setattr__(self, "wake", self.wake.model_copy(update={"mode": mode}))
        return self

    @model_validator(mode="after")
    def _references(self) -> Config:
        area_names = {a.name.casefold() for a in self.areas}
        floor_names = {f.name.casefold() for f in self.floors}
        problems: list[tuple[Loc, str]] = []
        seen: set[str] = set()
        for i, device in enumerate(self.devices):
            if device.id in seen:
                problems.append((("devices", i, "id"), f"duplicate device id {device.id!r}"))
            seen.add(device.id)
            if device.area is not None and device.area.casefold() not in area_names:
                problems.append((("devices", i, "area"), f"unknown area {device.area!r}"))
            for segment_area in device.segments:
                if segment_area.casefold() not in area_names:
                    problems.append((("devices", i, "segments", segment_area), f"unknown area {segment_area!r}"))
        for i, area in enumerate(self.areas):
            if area.floor is not None and self.floors and area.floor.casefold() not in floor_names:
                problems.append((("areas", i, "floor"), f"unknown floor {area.floor!r}"))
        if self.site.area is not None and self.site.area.casefold() not in area_names:
            problems.append((("site", "area"), f"unknown area {self.site.area!r}"))
        for i, satellite in enumerate(self.wyoming.satellites):
            if satellite.area.casefold() not in area_names:
                problems.append((("wyoming", "satellites", i, "area"), f"unknown area {satellite.area!r}"))
        if problems:
            raise _LocatedError(*problems[0], more=problems[1:])
        return self


class _LocatedError(ValueError):
    """A cross-field error that knows which field it is about (``more``: the other fields found wrong)."""

    def __init__(self, loc: Loc, message: str, more: Sequence[tuple[Loc, str]] = ()) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message
        self.problems = [(loc, message), *more]


def _child(node: yaml.Node | None, part: str | int) -> yaml.Node | None:
    """The value under a key (the last one written, as YAML keeps) or at a list index; None if absent."""
    found = None
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if key.value == part:
                found = value
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        found = node.value[part]
    return found


def _node_at(node: yaml.Node | None, loc: Loc) -> yaml.Node | None:
    """The deepest YAML node along ``loc`` (keys and list indexes)."""
    for part in loc:
        child = _child(node, part)
        if child is None:
            return node
        node = child
    return node


def _line_of(root: yaml.Node | None, loc: Loc) -> int | None:
    node = _node_at(root, loc)
    return None if node is None else node.start_mark.line + 1


def _format_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader that also finds keys written twice in one mapping (PyYAML keeps the last one
    silently, so a second `host:` under `mqtt:` would quietly win)."""

    def duplicate_keys(self, node: yaml.Node | None, loc: Loc = ()) -> list[tuple[Loc, int, int]]:
        """(field, line of the first, line of the second) for every key repeated in a mapping under ``node``."""
        found: list[tuple[Loc, int, int]] = []
        seen_nodes: set[int] = set()  # anchors and aliases can make the tree a graph, even a cycle
        pending: list[tuple[yaml.Node, Loc]] = [(node, loc)] if node is not None else []
        while pending:
            node, loc = pending.pop()
            if id(node) in seen_nodes:
                continue
            seen_nodes.add(id(node))
            if isinstance(node, yaml.MappingNode):
                first: dict[tuple[str, Any], int] = {}
                for key, value in node.value:
                    if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                        continue
                    line = key.start_mark.line + 1
                    if (key.tag, key.value) in first:
                        found.append(((*loc, key.value), first[(key.tag, key.value)], line))
                    else:
                        first[(key.tag, key.value)] = line
                    pending.append((value, (*loc, key.value)))
            elif isinstance(node, yaml.SequenceNode):
                pending.extend((item, (*loc, i)) for i, item in enumerate(node.value))
        return sorted(found, key=lambda f: f[2])


def _read_yaml(text: str, source: str) -> tuple[yaml.Node | None, Any, list[tuple[Loc, int, int]]]:
    """The document's node tree, its data and its repeated keys; ConfigError on invalid YAML."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        return root, (None if root is None else loader.construct_document(root)), loader.duplicate_keys(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    finally:
        loader.dispose()


def _data_loc(loc: tuple[str | int, ...], data: Any, missing: bool) -> Loc:
    """A pydantic error location as keys and indexes of the document: the tags pydantic adds for unions,
    literals and validators (``str``, ``literal['a']``, ``function-after[...]``) are not in the data."""
    out: list[str | int] = []
    for i, part in enumerate(loc):
        if isinstance(data, list) and isinstance(part, int):
            present = 0 <= part < len(data)
        else:
            present = isinstance(data, dict) and part in data
        if present:
            out.append(part)
            data = data[part]
        elif missing and i == len(loc) - 1:  # a required field that is not written: its name
            out.append(part)
    return tuple(out)


def _validation_problems(exc: ValidationError, data: Any) -> list[tuple[Loc, str]]:
    """Every error pydantic found, as (field, message); one per field, a union's alternatives joined."""
    by_loc: dict[Loc, list[str]] = {}
    for error in exc.errors():
        ctx_error = (error.get("ctx") or {}).get("error")
        if isinstance(ctx_error, _LocatedError):
            for loc, message in ctx_error.problems:
                by_loc.setdefault(loc, []).append(message)
            continue
        loc = _data_loc(error["loc"], data, error["type"] == "missing")
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field (a typo?)"
        messages = by_loc.setdefault(loc, [])
        if message not in messages:
            messages.append(message)
    return [(loc, "; ".join(messages)) for loc, messages in by_loc.items()]


def parse_config(text: str, source: str = "<config>") -> Config:
    """Validate a YAML document. Raises ConfigError naming the file, line and field of every problem,
    one a line, in the order of the file."""
    root, data, duplicates = _read_yaml(text, source)
    if data is None:
        raise ConfigError(f"{source}: the file is empty: a config needs at least a `devices:` list"
                          " (`devices: []` for a home with nothing to switch yet)")  # fmt: skip
    if not isinstance(data, dict):
        raise ConfigError(f"{source}:1: the top level must be a mapping of sections (site, areas, devices, ...)")
    problems: list[tuple[int | None, Loc, str]] = [
        (second, loc, f"written twice (lines {first} and {second}): remove one; YAML would silently keep the last")
        for loc, first, second in duplicates
    ]
    if "devices" not in data:
        need = "missing: a config needs a `devices:` list (`devices: []` for a home with nothing to switch yet)"
        problems.append((None, ("devices",), need))
    config = None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems += [(_line_of(root, loc), loc, message) for loc, message in _validation_problems(exc, data)]
    if problems or config is None:
        problems.sort(key=lambda p: (p[0] is None, p[0] or 0))
        where = [f"{source}:{line}" if line else source for line, _, _ in problems]
        raise ConfigError("\n".join(f"{w}: {_format_loc(loc)}: {message}" for w, (_, loc, message) in zip(where, problems)))
    return config


def config_location(path: str | Path, loc: Loc) -> str:
    """``file:line`` of a field written in a config file, or ``file`` when it is not written there: for
    problems found after loading (a missing model file, an absent microphone)."""
    try:
        root, _, _ = _read_yaml(Path(path).read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError, ConfigError):
        return str(path)
    node = root
    for part in loc:
        node = _child(node, part)
        if node is None:
            return str(path)
    return f"{path}:{node.start_mark.line + 1}" if node is not None else str(path)


def check_input_device(device: str | int, sounddevice: Any) -> str | None:
    """Why `audio.input` names no input device that ``sounddevice`` (the module, or a stand-in with its
    ``query_devices`` and ``PortAudioError``) sees, listing the ones it does; None when it names one."""
    try:
        sounddevice.query_devices(device, kind="input")
        return None
    except (ValueError, sounddevice.PortAudioError) as exc:
        reason = str(exc)
    listing = ", ".join(
        f"{info.get('index', i)} {info['name']!r}"
        for i, info in enumerate(sounddevice.query_devices())
        if info.get("max_input_channels", 0) > 0
    )  # fmt: skip
    return f"{reason}; the input devices here: {listing or 'none'}"


def load_config(path: str | Path) -> tuple[Config, Path]:
    """Read and validate a config file; returns it with the folder relative paths are resolved from."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    config, base = parse_config(text, str(path)), path.resolve().parent
    if config.wake.models:  # the wake word models, like every path in the file, are relative to its folder
        models = [str(base / Path(m).expanduser()) for m in config.wake.models]
        config = config.model_copy(update={"wake": config.wake.model_copy(update={"models": models})})
    return config, base
