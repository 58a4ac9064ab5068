"""The voice chain: audio chunks -> endpointer -> recogniser -> wake -> understanding -> device messages.

``VoicePipeline.feed(chunk)`` returns one result per utterance that chunk completes; it is driven by
the caller (``assistant process`` over files, the daemon over a microphone), so each stage can be
run alone in a test. Latency is measured from the sample where speech ended:
``e2e = (emitted_ms - end_ms) + vad + asr + nlu + publish``: the end-of-speech silence waited (audio
time) plus the compute after it, which is what a live microphone would see.

Acting early (``audio.act_early``): recognition starts at a short pause (``Tentative``, ``speculate_ms``);
when ``EarlyJudge`` finds the words so far a whole command (``understanding.complete.why_wait``), that
utterance is heard once the pause is ``act_early_ms`` long (``Paused``) with no speech since (``Heard.early``),
and ended there (``Endpointer.cut``), so it is never acted on again; speech that goes on is a new utterance
(with the follow-up window a reply opened, "... and the fan too" is then a follow-up). A fragment waits for
``end_silence_ms`` as before. Recognition starts before the pause is long enough to act on, so most of it is
done by then: ``e2e = max(act pause, speculate pause + vad + asr + judge) + nlu + publish``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from ..config import Config
from ..core.messages import Action, AudioChunk, Parse, Transcript, Utterance
from ..devices import Registry
from ..session import Session
from ..understanding.complete import why_wait
from ..understanding.context import Context
from ..understanding.parser import Understander
from ..understanding.replies import NOT_SURE
from .asr import Recognizer
from .vad import Endpointer, Idle, Paused, SileroVad, Tentative
from .wake import Decision, WakeGate, WakeWordDetector

log = logging.getLogger(__name__)

STOP_WORDS = re.compile(r"^\W*(stop|be quiet|quiet|shut up|enough|silence|cancel)\W*$", re.I)
"""An utterance that is only one of these stops a spoken reply and is no command."""

Publisher = Callable[[tuple[Action, ...]], None]
"""Publishes device messages (the daemon's link); None runs dry."""


class Speculation:
    """Recognition started at a pause (``Tentative``), kept for the final utterance if speech did not go on.

    ``final`` returns the transcript and when it was ready, in ms after the end of speech: the pause
    waited plus the recognition time for a kept guess, the whole silence plus recognition otherwise.
    """

    def __init__(self, recognizer: Recognizer) -> None:
        self.recognizer = recognizer
        self._guess: tuple[Utterance, Transcript | None] | None = None

    def tentative(self, utterance: Utterance) -> Transcript | None:
        transcript = self.recognizer.transcribe(utterance)
        self._guess = (utterance, transcript)
        return transcript

    def final(self, utterance: Utterance) -> tuple[Transcript | None, float]:
        guess, self._guess = self._guess, None
        if guess is not None and (guess[0].start_ms, guess[0].end_ms) == (utterance.start_ms, utterance.end_ms):
            transcript = guess[1]
            asr_ms = transcript.asr_ms if transcript else 0.0
            ready_ms = max(utterance.emitted_ms - utterance.end_ms + utterance.vad_ms,
                           guess[0].emitted_ms - utterance.end_ms + asr_ms)  # fmt: skip
            return transcript, ready_ms
        transcript = self.recognizer.transcribe(utterance)
        asr_ms = transcript.asr_ms if transcript else 0.0
        return transcript, utterance.emitted_ms - utterance.end_ms + utterance.vad_ms + asr_ms

    def reset(self) -> None:
        self._guess = None


@dataclass(frozen=True)
class Heard:
    """One utterance, what was recognised in it and what the wake gate made of it."""

    utterance: Utterance
    transcript: Transcript
    decision: Decision
    ready_ms: float
    """When the transcript was ready, in ms after the end of speech (see ``Speculation.final``)."""
    early: bool = False
    """Heard at a pause, before the end-of-speech silence, as a whole command (``audio.act_early``)."""
    unsure: bool = False
    """A command heard, but not surely enough to act on (``Transcript.unsure``): ``decision.command`` is None."""


class EarlyJudge:
    """Whether the words heard at a pause are a whole command to act on now (``understanding.complete``).

    A pure parse of the text alone (the site's room, no conversation: a follow-up or a pronoun that needs the
    command before is judged without it, and waits unless it is whole by itself); what is then done is the
    session's own handling of the same text. ``understander`` and ``registry`` are read at each call (the
    service swaps them on reload and discovery); parsing is pure, so the microphone thread may call it."""

    def __init__(self, understander: Callable[[], Understander], registry: Callable[[], Registry]) -> None:
        self.understander = understander
        self.registry = registry

    def __call__(self, text: str) -> bool:
        registry = self.registry()
        reason = why_wait(self.understander().parse(text, registry, Context()), registry)
        if reason is not None:
            log.debug("not acting at the pause on %r: %s", text, reason)
        return reason is None


class Ears:
    """Audio chunks -> what was heard: endpointing, recognition (started at pauses), the wake gate.

    Shared by ``VoicePipeline`` (files, `assistant process`) and ``MicrophoneLoop`` (the daemon)."""

    def __init__(self, config: Config, recognizer: Recognizer, vad: SileroVad,
                 on_wake_word: Callable[[float], None] | None = None,
                 judge: Callable[[str], bool] | None = None) -> None:  # fmt: skip
        """``on_wake_word``: called with the stream time when the openWakeWord detector fires.
        ``judge``: whether a command heard at a pause is whole, to act on at once (``EarlyJudge``); None (or
        ``audio.act_early`` false) always waits for the end of speech."""
        self.config = config
        self.judge = judge
        self.recognizer = recognizer
        self.vad = vad
        self.gate = WakeGate(config.wake)
        self.detector = WakeWordDetector(config.wake) if config.wake.mode == "openwakeword" else None
        self.on_wake_word = on_wake_word
        self.speculation = Speculation(recognizer)
        self.streaming = callable(getattr(recognizer, "start", None))
        """vosk decodes while the speech arrives: only its final decoding is left at the endpoint."""
        self.stream: Any = None
        self._whole: tuple[Utterance, Transcript, Decision, float] | None = None
        """A whole command recognised at a pause, waiting for the pause to reach ``act_early_ms``
        (the utterance, its transcript, the wake gate's decision, the judge's ms)."""
        self.reset()

    def reset(self) -> None:
        """A new stream (the next file): fresh endpointer, VAD state and wake window."""
        self.vad.reset()
        self.endpointer = Endpointer(self.config.audio, self.vad, self._speech if self.streaming else None,
                                     self._restart if self.streaming else None)  # fmt: skip
        self.gate.close()
        self.speculation.reset()
        self._whole = None
        self.stream = None
        if self.detector is not None:
            self.detector.reset()

    def _restart(self) -> None:
        self.stream = None  # what it decoded was background: the utterance starts again

    def _speech(self, samples: Any) -> None:
        if self.stream is None:
            self.stream = self.recognizer.start()  # type: ignore[attr-defined]
        partial = self.stream.accept(samples)
        if partial:
            log.debug("partial: %s", partial)

    def listen(self, now_ms: float) -> None:
        """Open listening without the wake phrase (``<prefix>/<site>/listen``)."""
        self.gate.open(now_ms)
        self.endpointer.reset_idle(now_ms)

    def feed(self, chunk: AudioChunk) -> list[Heard]:
        if self.detector is not None:
            for at_ms in self.detector.feed(chunk):
                self.gate.fired(at_ms)
                self.endpointer.reset_idle(at_ms)
                if self.on_wake_word is not None:
                    self.on_wake_word(at_ms)
        return [h for e in self.endpointer.feed(chunk) if (h := self._event(e)) is not None]

    def finish(self) -> list[Heard]:
        return [h for e in self.endpointer.flush() if (h := self._event(e)) is not None]

    def _event(self, event: Utterance | Tentative | Paused | Idle) -> Heard | None:
        if isinstance(event, Tentative):
            self._whole = None
            if not self.streaming:
                return self._early(event.utterance, self.speculation.tentative(event.utterance))
            return None
        if isinstance(event, Paused):
            return self._act(event.utterance)
        if isinstance(event, Idle):
            if self.gate.is_open(event.timestamp_ms):
                log.info("listening closed: no speech for %.0f s", self.config.audio.idle_timeout_s)
            self.gate.close()
            return None
        self._whole = None
        if self.stream is not None:
            stream, self.stream = self.stream, None
            transcript = stream.finish(event.start_ms, event.end_ms)
            ready_ms = event.emitted_ms - event.end_ms + event.vad_ms + (transcript.asr_ms if transcript else 0.0)
        else:
            transcript, ready_ms = self.speculation.final(event)
        if transcript is None:
            return None
        decision = self.gate.decide(transcript.text, event.start_ms, event.end_ms, event.emitted_ms)
        if transcript.unsure and decision.command:
            log.info("heard %r, not surely enough to act on it (confidence %.2f)", transcript.text,
                     transcript.confidence or 0.0)  # fmt: skip
            return Heard(event, transcript, replace(decision, command=None), ready_ms, unsure=True)
        log.info("heard %r (%s)", transcript.text, "command" if decision.command else
                 "listening" if decision.woken else "not for me")  # fmt: skip
        return Heard(event, transcript, decision, ready_ms)

    def _early(self, utterance: Utterance, transcript: Transcript | None) -> Heard | None:
        """The utterance so far, heard now when it is a whole command and the pause is ``act_early_ms`` long;
        kept for ``Paused`` when the pause is shorter (``_act``); else None (the end is waited for)."""
        if transcript is None or transcript.unsure or self.judge is None or not self.config.audio.act_early:
            return None  # an unsure transcript never acts, early or late
        gate = self.gate.copy()  # tried on a copy: a fragment must leave the gate as it was for the whole
        decision = gate.decide(transcript.text, utterance.start_ms, utterance.end_ms, utterance.emitted_ms)
        if decision.command is None:
            return None
        started = time.perf_counter()
        whole = self.judge(decision.command)
        judge_ms = (time.perf_counter() - started) * 1000
        if not whole:
            return None
        self._whole = (utterance, transcript, decision, judge_ms)
        if self.config.audio.act_pause_ms > self.config.audio.speculate_ms:
            return None  # recognised ahead: acted on when the pause is long enough (Paused), if no speech came
        return self._act(utterance)

    def _act(self, paused: Utterance) -> Heard | None:
        """Act on the whole command recognised at this pause (``_early``), now that it is ``act_early_ms`` long:
        only when no speech came since (the same utterance, start and end)."""
        kept, self._whole = self._whole, None
        if kept is None:
            return None
        utterance, transcript, decision, judge_ms = kept
        if (utterance.start_ms, utterance.end_ms) != (paused.start_ms, paused.end_ms):
            return None
        gate = self.gate.copy()  # decided again on the gate as it is now (listen() may have opened it since)
        if gate.decide(transcript.text, utterance.start_ms, utterance.end_ms, utterance.emitted_ms) != decision:
            return None
        self.gate = gate
        self.endpointer.cut()  # acted on here: never again at the end of the silence
        self.speculation.reset()
        # ready when both are: the pause waited, and the recognition and judgement started at the shorter pause
        ready_ms = max(paused.emitted_ms - paused.end_ms + paused.vad_ms,
                       utterance.emitted_ms - utterance.end_ms + utterance.vad_ms + transcript.asr_ms + judge_ms)  # fmt: skip
        log.info("heard %r (command, whole at a pause of %.0f ms: acting now)", transcript.text,
                 paused.emitted_ms - paused.end_ms)  # fmt: skip
        return Heard(paused, transcript, decision, ready_ms, early=True)


class VoicePipeline:
    """Audio in, one result row per utterance out: what ``assistant process`` prints.

    Commands go through a ``Session`` (follow-ups, confirmations, timers carried across the files of one
    run, exactly as the service would); its clock is audio time, counted across the files."""

    def __init__(self, config: Config, understander: Understander, registry: Registry, recognizer: Recognizer,
                 vad: SileroVad, publish: Publisher | None = None, session: Session | None = None) -> None:  # fmt: skip
        """``session``: None makes one over ``understander`` on this pipeline's audio clock."""
        self.config = config
        self.registry = registry
        self.recognizer = recognizer
        self.publish = publish
        judge = EarlyJudge(lambda: understander, lambda: self.registry) if config.audio.act_early else None
        self.ears = Ears(config, recognizer, vad, judge=judge)
        self.offset_ms = 0.0
        """Audio time of the files before this one."""
        self.now_ms = 0.0
        if session is None:
            session = Session(understander, config, clock=lambda: (self.offset_ms + self.now_ms) / 1000)
        self.session = session

    def reset(self) -> None:
        """A new stream (the next file); the conversation goes on."""
        self.ears.reset()
        self.offset_ms += self.now_ms
        self.now_ms = 0.0

    def listen(self, now_ms: float) -> None:
        self.ears.listen(now_ms)

    def feed(self, chunk: AudioChunk) -> list[dict[str, Any]]:
        self.now_ms = chunk.timestamp_ms + chunk.duration_ms
        return [self.handle(h) for h in self.ears.feed(chunk)]

    def finish(self) -> list[dict[str, Any]]:
        return [self.handle(h) for h in self.ears.finish()]

    def run(self, chunks: Iterable[AudioChunk]) -> Iterator[dict[str, Any]]:
        for chunk in chunks:
            yield from self.feed(chunk)
        yield from self.finish()

    def handle(self, heard: Heard) -> dict[str, Any]:
        utterance, transcript, decision = heard.utterance, heard.transcript, heard.decision
        timings = {"vad": utterance.vad_ms, "asr": transcript.asr_ms, "nlu": 0.0, "publish": 0.0}
        if heard.unsure:  # the grammar's best sentence won by too little: say so, do nothing
            parse = Parse(text=transcript.text, intent=None, confidence=0.0, reply=NOT_SURE, outcome="unsure")
        elif decision.command is None:
            outcome = "listening" if decision.woken else "not_woken"
            parse = Parse(text=transcript.text, intent=None, confidence=0.0, reply="", outcome=outcome)
        else:
            self.now_ms = max(self.now_ms, utterance.emitted_ms)
            started = time.perf_counter()
            turn = self.session.handle(decision.command, self.registry, source="voice")
            timings["nlu"] = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            if self.publish is not None and turn.actions:
                self.publish(turn.actions)
            timings["publish"] = (time.perf_counter() - started) * 1000
            parse = turn.parse or Parse(text=decision.command, intent=None, confidence=0.0)
            parse = replace(parse, actions=turn.actions, reply=turn.reply, outcome=turn.outcome)
            if parse.reply:
                self.ears.gate.replied(utterance.emitted_ms)
        # end of speech -> transcript ready (the silence waited, recognition overlapping it when speculated),
        # then understanding and publishing
        e2e = heard.ready_ms + timings["nlu"] + timings["publish"]
        row = self._row(utterance, transcript, parse, decision.woken, {**timings, "e2e": e2e})
        row["early"] = heard.early
        return row

    @staticmethod
    def _row(utterance: Utterance, transcript: Transcript, parse: Parse, woken: bool,
             timings: dict[str, float]) -> dict[str, Any]:  # fmt: skip
        row: dict[str, Any] = {"start_ms": round(utterance.start_ms, 1), "end_ms": round(utterance.end_ms, 1),
                               "transcript": transcript.text}  # fmt: skip
        row.update(parse.as_dict())
        row["engine"] = transcript.engine
        row["asr_confidence"] = transcript.confidence
        row["grammar"] = transcript.grammar  # the transcript is a sentence of the home's grammar
        row["woken"] = woken
        row["timings_ms"] = {k: round(v, 3) for k, v in timings.items()}
        return row
