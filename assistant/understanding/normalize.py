"""Turn the words of a tagged span into normalised slot values.

Numbers written as words go through text2num, colours through webcolors' CSS names.
Every function returns None when the words do not hold a value of that kind.
"""

from __future__ import annotations

import re

import webcolors
from text_to_num import alpha2digit

_NUMBER_RE = re.compile(r"[-+]?\d+(?:[.,]\d+)?")
_HALF_RE = re.compile(r"\b(?:and a half|and half|½)\b")


_SECOND_UNIT = re.compile(r"\b(\d+(?:[.,]\d+)?) 2nd\b")
"""A number then "2nd": text2num took the unit "second" for the ordinal ("three second timer" -> "3 2nd timer")."""


def to_digits(text: str) -> str:
    """'twenty one degrees' -> '21 degrees' (small numbers too: 'one' -> '1'); 'a three second timer' keeps its
    unit ('a 3 second timer')."""
    try:
        return _SECOND_UNIT.sub(r"\1 second", alpha2digit(text, "en", threshold=0))
    except Exception:  # text2num raises plain ValueErrors on odd input; the words stay as they are
        return text


_FEW = [(re.compile(r"\bhalf an?\s+(?=degree)"), "0.5 "), (re.compile(r"\ba couple(?: of)?\b"), "2"),
        (re.compile(r"\ba few\b"), "3"), (re.compile(r"\ba\s+(?=degree)"), "1 ")]


def first_number(text: str) -> float | None:
    lowered = text.lower()
    for pattern, words in _FEW:
        lowered = pattern.sub(words, lowered)
    digits = to_digits(lowered)
    match = _NUMBER_RE.search(digits)
    if match is None:
        return None
    value = float(match.group().replace(",", "."))
    if _HALF_RE.search(digits[match.end():match.end() + 14]):
        value += 0.5
    return value


_LEVEL_WORDS = {
    "max": 100, "maximum": 100, "full": 100, "fully": 100, "all the way": 100, "hundred": 100,
    "half": 50, "halfway": 50, "half way": 50, "middle": 50,
    "min": 1, "minimum": 1, "lowest": 1, "dimmest": 1, "a quarter": 25, "quarter": 25,
    "three quarters": 75,
    "off": 0, "zero": 0, "none": 0,
}  # fmt: skip


def percent(text: str) -> int | None:
    """'30 percent', 'thirty', '30%', 'half', 'max' -> an integer 0..100."""
    lowered = text.lower().strip()
    number = first_number(lowered)
    if number is None:
        for words, value in sorted(_LEVEL_WORDS.items(), key=lambda kv: -len(kv[0])):
            if re.search(rf"\b{words}\b", lowered):
                return value
        return None
    if 0 < number <= 1 and "." in to_digits(lowered):  # "0.5" as a fraction
        number *= 100
    return int(round(min(100.0, max(0.0, number))))


_FAN_WORDS = {"low": 33, "lowest": 33, "slow": 33, "medium": 66, "mid": 66, "normal": 66, "high": 100,
              "highest": 100, "fast": 100, "full": 100, "max": 100, "maximum": 100, "top": 100}  # fmt: skip


def fan_percentage(text: str) -> int | None:
    lowered = text.lower()
    for word, value in _FAN_WORDS.items():
        if re.search(rf"\b{word}\b", lowered):
            return value
    number = first_number(lowered)
    if number is not None and number <= 3 and "percent" not in lowered and "%" not in lowered:
        return int(round(number * 100 / 3))  # "speed 2" on a three-speed fan
    return percent(text)


_COLOR_TEMPS = {
    "warm white": 2700, "warm": 2700, "soft white": 3000, "soft": 3000, "candle": 2000, "candlelight": 2000,
    "neutral white": 4000, "neutral": 4000, "natural white": 4000, "natural": 4000, "white": 4000,
    "cool white": 5000, "cold white": 5000, "cool": 5000, "cold": 5000, "bright white": 5000,
    "daylight": 6500, "day light": 6500,
}  # fmt: skip


def color_temp_kelvin(text: str) -> int | None:
    lowered = " ".join(text.lower().split())
    number = first_number(lowered)
    if number is not None:
        if number < 1000:  # mireds
            return int(round(1_000_000 / number)) if number > 0 else None
        return int(round(number))
    for words, kelvin in sorted(_COLOR_TEMPS.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"\b{words}\b", lowered):
            return kelvin
    return None


_CSS_NAMES = set(webcolors.names("css3"))
_COLOR_ALIASES = {"grey": "gray", "light blue": "lightblue", "dark blue": "darkblue", "light green": "lightgreen",
                  "dark green": "darkgreen", "sky blue": "skyblue", "hot pink": "hotpink", "dark red": "darkred",
                  "light pink": "lightpink", "navy blue": "navy", "sea green": "seagreen", "aqua": "aqua"}  # fmt: skip


def color(text: str) -> tuple[str, tuple[int, int, int]] | None:
    """'Red', 'light blue', 'sky blue' -> ('red', (255, 0, 0))."""
    lowered = " ".join(re.sub(r"[^a-z ]", " ", text.lower()).split())
    candidates = [_COLOR_ALIASES.get(lowered, lowered), lowered.replace(" ", "")]
    words = lowered.split()
    candidates += [_COLOR_ALIASES.get(" ".join(words[i:]), "".join(words[i:])) for i in range(1, len(words))]
    for name in candidates:
        name = _COLOR_ALIASES.get(name, name)
        if name in _CSS_NAMES:
            rgb = webcolors.name_to_rgb(name)
            return name, (rgb.red, rgb.green, rgb.blue)
    return None


def temperature(text: str) -> tuple[float, str | None] | None:
    """'21 degrees' -> (21.0, None); 'seventy two fahrenheit' -> (72.0, 'F')."""
    lowered = text.lower()
    number = first_number(lowered)
    if number is None:
        return None
    unit = None
    if re.search(r"\bfahrenheit\b|°f\b|\bf\b", lowered):
        unit = "F"
    elif re.search(r"\bcelsius\b|\bcentigrade\b|°c\b|\bc\b", lowered):
        unit = "C"
    return number, unit


_UNIT_SECONDS = [
    (r"h(?:ou)?rs?|hr", 3600),
    (r"min(?:ute)?s?", 60),
    (r"sec(?:ond)?s?", 1),
]


def duration_seconds(text: str) -> int | None:
    """'ten minutes' -> 600; 'an hour and a half' -> 5400; '1 hour 20 minutes' -> 4800."""
    # "second" is also an ordinal to text2num ("90 second" -> "90 2nd"): say "secs" instead
    lowered = re.sub(r"\bseconds?\b", "secs", text.lower())
    lowered = " " + to_digits(lowered).replace("-", " ") + " "
    lowered = re.sub(r"\bhalf an?\s+(?=hour)", "0.5 ", lowered)
    lowered = re.sub(r"\bquarter of an?\s+(?=hour)", "0.25 ", lowered)
    lowered = re.sub(r"\b(an?|one)\s+(?=h(?:ou)?r|min|sec)", "1 ", lowered)
    lowered = re.sub(r"(?<!and a )\bhalf\s+(?=h(?:ou)?r|min)", "0.5 ", lowered)
    lowered = re.sub(r"\ba couple of\b", "2", lowered)
    lowered = re.sub(r"\ba few\b", "3", lowered)
    total = 0.0
    found = False
    for unit_re, seconds in _UNIT_SECONDS:
        for match in re.finditer(rf"(\d+(?:[.,]\d+)?)(\s+and\s+a\s+half)?\s*(?:{unit_re})\b(\s+and\s+a\s+half)?",
                                 lowered):  # fmt: skip
            value = float(match.group(1).replace(",", "."))
            if match.group(2) or match.group(3):
                value += 0.5
            total += value * seconds
            found = True
    if not found:
        return None
    return int(round(total))


_STATE_WORDS = {
    "on": "on", "off": "off", "open": "open", "opened": "open", "closed": "closed", "shut": "closed",
    "close": "closed", "locked": "locked", "unlocked": "unlocked", "playing": "playing", "paused": "paused",
    "running": "on", "home": "home", "away": "away", "low": "low", "normal": "normal",
    "wet": "wet", "leaking": "wet", "dry": "dry", "detected": "detected", "clear": "clear", "connected": "connected",
    "disconnected": "disconnected", "offline": "disconnected", "online": "connected", "armed": "armed",
    "disarmed": "disarmed", "docked": "docked", "mowing": "mowing", "cleaning": "cleaning",
}  # fmt: skip


def state_word(text: str) -> str | None:
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in _STATE_WORDS:
            return _STATE_WORDS[word]
    return None


_ITEM_LEAD = re.compile(r"^(?:some|a|an|the|more|my)\s+", re.IGNORECASE)


def item_text(text: str) -> str | None:
    cleaned = " ".join(text.strip(" .,!?;:\"'").split())
    cleaned = _ITEM_LEAD.sub("", cleaned)
    return cleaned.lower() or None


_FAN_MODE_WORDS = {
    "auto": "auto", "automatic": "auto", "automatically": "auto", "low": "low", "lowest": "low", "slow": "low",
    "medium": "medium", "mid": "medium", "middle": "medium", "normal": "medium", "high": "high", "highest": "high",
    "fast": "high", "max": "high", "maximum": "high", "full": "high", "quiet": "quiet", "silent": "quiet",
    "turbo": "turbo", "boost": "turbo", "on": "on", "off": "off", "diffuse": "diffuse", "focus": "focus",
}  # fmt: skip
_MODE_FILLER = re.compile(r"\b(?:the|to|on|at|in|a|fan|mode|speed|setting)\b")


def fan_mode(text: str) -> str | None:
    """'on auto' -> 'auto', 'high speed' -> 'high'; other words as said ('sleep'), lower case."""
    lowered = text.lower()
    if (mode := fan_mode_in(lowered)) is not None:
        return mode
    if (words := re.findall(r"[a-z]+", lowered)) and words[-1] in ("on", "off"):
        return words[-1]  # "fan on", never the "on" of "on high"
    rest = " ".join(_MODE_FILLER.sub(" ", re.sub(r"[^a-z0-9 ]", " ", lowered)).split())
    return rest if rest and len(rest) <= 32 else None


def fan_mode_in(text: str) -> str | None:
    """A known fan mode word anywhere in a sentence (for when the tagger missed it)."""
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in _FAN_MODE_WORDS and word not in ("on", "off"):
            return _FAN_MODE_WORDS[word]
    return None


_MEDIA_CLASSES = {
    "song": "track", "songs": "track", "track": "track", "tracks": "track", "tune": "track", "tunes": "track",
    "single": "track", "album": "album", "albums": "album", "record": "album", "lp": "album",
    "artist": "artist", "band": "artist", "singer": "artist", "playlist": "playlist", "playlists": "playlist",
    "mix": "playlist", "podcast": "podcast", "podcasts": "podcast", "episode": "episode", "radio": "channel",
    "station": "channel", "channel": "channel", "movie": "movie", "film": "movie", "show": "tv_show",
    "series": "tv_show", "genre": "genre", "music": "music", "audiobook": "podcast", "video": "video",
}  # fmt: skip


def media_class(text: str) -> str | None:
    """'a song' -> 'track', 'the album' -> 'album', 'radio station' -> 'channel' (Home Assistant's media classes)."""
    words = re.findall(r"[a-z]+", text.lower())
    for word in reversed(words):  # the head noun comes last ("radio station", "tv show")
        if word in _MEDIA_CLASSES:
            return _MEDIA_CLASSES[word]
    return None


def free_text(text: str) -> str | None:
    """A message or a search as said: outer punctuation and spaces off, case kept ('Taylor Swift')."""
    cleaned = " ".join(text.strip(" .,!?;:\"'").split())
    return cleaned[:200] or None
