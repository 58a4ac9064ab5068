"""Memory given back after the voice's big transient work (a recognition, a reply voiced, the models loaded).

Recognition and synthesis allocate tens of megabytes for a moment (whisper encodes 15 s of audio; Piper's
decoder holds the whole clause's audio in several layers at once). glibc keeps what was freed in its heap,
in holes the next, differently sized request cannot always use, so the service's resident memory creeps up
with every reply. ``give_back()`` asks glibc to return the free pages (``malloc_trim``): a few milliseconds,
called off the latency path (after a command is handed on, after a reply is voiced). Within
``mapped_large_allocations()`` (Piper's synthesis) large buffers are mapped on their own, so the burst does
not fragment the heap in the first place. Elsewhere than glibc both do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

log = logging.getLogger(__name__)


@cache
def _glibc(function: str) -> Any:
    """glibc's ``function`` (``malloc_trim``, ``mallopt``), loaded once; None where the C library has none."""
    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), function)
    except (OSError, AttributeError):
        log.debug("no %s here (not glibc): memory is left to the C library", function)
        return None


def give_back() -> None:
    """Return the heap's free pages to the system (glibc ``malloc_trim(0)``); nothing elsewhere."""
    trim = _glibc("malloc_trim")
    if trim is not None:
        trim(0)


_M_MMAP_THRESHOLD = -3
"""glibc's mallopt parameter: requests at least this large are mapped on their own and unmapped when freed."""
MAPPED_FROM = 4 * 1024 * 1024
"""During synthesis: every request of 4 MB or more mapped on its own. Piper's peak after a 19-word reply,
beside recognition: 390-400 MB without, 364 MB with 4 MB, 347-358 MB with 128 kB (glibc's starting threshold),
which also made voicing it 20-100% slower (fresh pages for every buffer); 4 MB: a short reply as fast, the
long one about 15% slower (`bench --ready --voice`, two cores under load)."""
MAPPED_AFTER = 32 * 1024 * 1024
"""Afterwards: the most glibc's own sliding threshold would rise to (64-bit), so the rest runs as before."""


@contextmanager
def mapped_large_allocations() -> Iterator[None]:
    """Within: large requests are mapped on their own (glibc ``mallopt(M_MMAP_THRESHOLD)``), so what a burst
    of large, short-lived buffers needs (Piper's decoder: several layers of the whole piece's audio) is given
    back at once instead of left in the heap in pieces the next, larger buffer cannot use. Nothing elsewhere."""
    mallopt = _glibc("mallopt")
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, MAPPED_FROM)
    try:
        yield
    finally:
        if mallopt is not None:
            mallopt(_M_MMAP_THRESHOLD, MAPPED_AFTER)
