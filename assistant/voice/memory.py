"""Memory given back after the voice's big transient work (a recognition, a reply voiced, the models loaded).

Recognition and synthesis allocate tens of megabytes for a moment (whisper encodes 15 s of audio; Piper's
decoder holds the whole clause's audio in several layers at once). glibc keeps what was freed in its heap,
in holes the next, differently sized request cannot always use, so the service's resident memory creeps up
with every reply; Intel MKL (CTranslate2's x86 back end) keeps what whisper's recognition used in a pool of
its own (15-30 MB), on top of which the next reply is voiced. ``give_back()`` asks MKL to free its pool
(``mkl_free_buffers``), then glibc to return the free pages (``malloc_trim``): a few milliseconds,
called off the latency path (after a command is handed on, after a reply is voiced). Within
``mapped_large_allocations()`` (Piper's synthesis) large buffers are mapped on their own, so the burst does
not fragment the heap in the first place. Elsewhere than glibc both do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
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


@cache
def _mkl_free_buffers() -> Any:
    """Intel MKL's ``mkl_free_buffers`` inside CTranslate2's library (its x86 back end), once it is loaded;
    None before, and where it has no MKL (ARM)."""
    module = sys.modules.get("ctranslate2")
    if module is None or not module.__file__:
        return None
    for path in sorted(Path(module.__file__).parent.parent.glob("ctranslate2.libs/libctranslate2*.so*")):
        try:
            return ctypes.CDLL(str(path)).mkl_free_buffers
        except (OSError, AttributeError):
            continue
    return None


_lock = threading.Lock()
_recognising = 0
"""Recognitions running now, in any thread (the microphone's, Wyoming's speech worker): MKL's pool is freed
only when there are none, and none starts while it is being freed."""


@contextmanager
def recognising() -> Iterator[None]:
    """Within: a recognition (or a model's loading) is running on CTranslate2 and MKL; ``give_back`` leaves
    MKL's pool."""
    global _recognising
    with _lock:
        _recognising += 1
    try:
        yield
    finally:
        with _lock:
            _recognising -= 1


def give_back() -> None:
    """Return the heap's free pages to the system (glibc ``malloc_trim(0)``), and first the buffers MKL keeps
    in a pool of its own after a recognition (``mkl_free_buffers``, 15-30 MB) when no recognition is running
    in another thread; nothing elsewhere."""
    if "ctranslate2" in sys.modules:
        free_buffers = _mkl_free_buffers()
        with _lock:
            if free_buffers is not None and not _recognising:
                free_buffers()
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
