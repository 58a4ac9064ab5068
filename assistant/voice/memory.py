"""Memory given back after the voice's big transient work (a recognition, a reply voiced, the models loaded).

Recognition and synthesis allocate tens of megabytes for a moment (whisper encodes 30 s of audio; Piper's
decoder holds the whole clause's audio in several layers at once). glibc keeps what was freed in its heap,
in holes the next, differently sized request cannot always use, so the service's resident memory creeps up
with every reply. ``give_back()`` asks glibc to return the free pages (``malloc_trim``): a few milliseconds,
called off the latency path (after a command is handed on, after a reply is voiced). Elsewhere than glibc it
does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from typing import Any

log = logging.getLogger(__name__)

_trim: Any = None


def give_back() -> None:
    """Return the heap's free pages to the system (glibc ``malloc_trim(0)``); nothing elsewhere."""
    global _trim
    if _trim is None:
        _trim = False
        try:
            _trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
        except (OSError, AttributeError):
            log.debug("no malloc_trim here (not glibc): memory is not given back explicitly")
    if _trim:
        _trim(0)
