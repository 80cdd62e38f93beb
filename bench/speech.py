"""``econsult bench speech``: the figures issue 26 (speech activity) sets targets for, each
printed beside its target: the detector's accuracy on the labelled corpus
(bench/speech_accuracy.py), a conversation's measures read from it, what analysing one
participant's voice costs, and the delay from speech to the consultant's live view
(bench/speech_delay.py)."""

from __future__ import annotations

import time
from operator import attrgetter

import numpy as np
from aiortc.codecs.opus import SAMPLES_PER_FRAME, OpusDecoder, OpusEncoder
from aiortc.jitterbuffer import JitterFrame
from av import AudioFrame, AudioResampler

from bench.figures import Figure, Target, measured
from bench.speech_accuracy import (
    CHUNK,
    SNRS_DB,
    as_int16,
    conversations_errors,
    corpus_accuracy,
)
from bench.speech_corpus import ESPEAK_LICENCE, LABEL_RULE, NOISE_KINDS, RATE, utterances
from bench.speech_delay import ONSETS, speech_delays
from contracts.settings import Settings
from ingest.voice_activity import SAMPLE_RATE, VoiceActivity
from ingest.voice_tap import detector_samples

CONVERSATION_SEEDS = range(5)
COST_S = 60.0
COST_RUNS = 3


def corpus_figures() -> list[Figure]:
    """Frame by frame (30 ms) on the labelled corpus."""
    accuracy = corpus_accuracy()
    clips = accuracy.clips
    recorded = [clip for clip in clips if clip.source != ESPEAK_LICENCE]
    figures = [
        Figure("clips (espeak-ng synthesized, recorded)",
               f"{len(clips) - len(recorded)}, {len(recorded)}"),
        measured("clips: seconds of sound", sum(clip.seconds for clip in clips), ",.0f"),
        *(Figure(f"recorded speech: {source}", "") for source in
          dict.fromkeys(clip.source for clip in recorded)),
        Figure(f"labels: {LABEL_RULE}", ""),
        measured("F1 of speech, clean", accuracy.clean.f1, ".3f", Target(0.95, False)),
        measured("speech found (recall), clean", accuracy.clean.recall, ".1%"),
        measured("false-speech rate, clean", accuracy.clean.false_rate, ".1%"),
        *(measured(f"F1 of speech, clean, {_short(source)} only", tally.f1, ".3f")
          for source, tally in accuracy.by_source.items()),
    ]
    for snr_db in SNRS_DB:
        target = Target(0.90, False) if snr_db >= 10 else None
        figures += [
            measured(f"F1 of speech at {snr_db:g} dB SNR (mean of {len(NOISE_KINDS)} noises)",
                     accuracy.mean_over_kinds(snr_db, attrgetter("f1")), ".3f", target),
            measured(f"speech found (recall) at {snr_db:g} dB SNR",
                     accuracy.mean_over_kinds(snr_db, attrgetter("recall")), ".1%"),
            measured(f"false-speech rate at {snr_db:g} dB SNR",
                     accuracy.mean_over_kinds(snr_db, attrgetter("false_rate")), ".1%"),
            Figure(f"F1 at {snr_db:g} dB SNR by noise: {', '.join(NOISE_KINDS)}",
                   " ".join(f"{accuracy.noisy[snr_db, kind].f1:.2f}" for kind in NOISE_KINDS)),
        ]
    return [
        *figures,
        measured("leaked voice called speech (other at -20 dB, own silent)",
                 accuracy.leaked_called_speech, ".1%", Target(0.05, True)),
        measured("false-speech rate, noise and leaked voice", accuracy.false_speech, ".1%"),
    ]


def _short(source: str) -> str:
    """The Debian package a source names first."""
    return source.split()[0].rstrip(":")


def conversation_figures() -> list[Figure]:
    """contracts.speech's measures from the detector's segments against the truth's, over
    five-minute consultations; worst and mean over them."""
    errors = conversations_errors(CONVERSATION_SEEDS)
    count = f"{len(errors)} conversations of 5 min"
    # (figure, ConversationErrors' attribute, target, whether at most, format)
    rows = [
        ("talk share error, points", "share_error", 2.0, True, ".2f"),
        ("turns, relative error", "turns_error", 0.10, True, ".1%"),
        ("interruptions found (recall)", "interruption_recall", 0.90, False, ".0%"),
        ("interruptions found that were (precision)", "interruption_precision", 0.90, False,
         ".0%"),
    ]
    figures = [
        Figure(f"{count}: true turns, interruptions",
               f"{sum(e.turns_true for e in errors)}, "
               f"{sum(e.interruptions_true for e in errors)}"),
        Figure(f"{count}: found turns, interruptions (matched)",
               f"{sum(e.turns_found for e in errors)}, "
               f"{sum(e.interruptions_found for e in errors)} "
               f"({sum(e.interruptions_matched for e in errors)})")]
    for name, attribute, limit, at_most, form in rows:
        values = [getattr(e, attribute) for e in errors]
        worst = max(values) if at_most else min(values)
        figures += [measured(f"{name}, worst", worst, form, Target(limit, at_most)),
                    measured(f"{name}, mean", float(np.mean(values)), form,
                             Target(limit, at_most))]
    return figures


def cost_figures() -> list[Figure]:
    """One participant's analysis on one thread: Opus decoding (aiortc's, 48 kHz stereo 20 ms
    frames), down to 16 kHz mono (as ingest/voice_tap.py) and the detector, as % of a core; the
    least of a few runs, so that the machine's other work is not counted."""
    packets = _opus_packets(_speech(COST_S))
    runs = [_analysis_seconds(packets) for _ in range(COST_RUNS)]
    per_core = {part: 100 * min(run[part] for run in runs) / COST_S for part in runs[0]}
    return [*(measured(f"% of a core per participant: {part}", share, ".2f")
              for part, share in per_core.items()),
            measured("% of a core per analysed participant, in all", sum(per_core.values()),
                     ".2f", Target(1.0, True))]


def _analysis_seconds(packets: list[bytes]) -> dict[str, float]:
    """Seconds each part of the analysis took over ``packets``, from a fresh start."""
    decoder = OpusDecoder()
    resampler = AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    activity = VoiceActivity()
    spent = {"Opus decode": 0.0, "resample to 16 kHz mono": 0.0, "voice activity": 0.0}
    for index, packet in enumerate(packets):
        started = time.perf_counter()
        decoded = decoder.decode(JitterFrame(packet, index * SAMPLES_PER_FRAME))
        spent["Opus decode"] += (resampled := time.perf_counter()) - started
        samples = np.concatenate([detector_samples(resampler, frame) for frame in decoded])
        spent["resample to 16 kHz mono"] += (detected := time.perf_counter()) - resampled
        activity.push(samples)
        spent["voice activity"] += time.perf_counter() - detected
    return spent


def _speech(seconds: float) -> np.ndarray:
    """A minute of the corpus's clean speech, pauses included, as 16 kHz int16."""
    audio = np.concatenate([clip.audio for clip in utterances(synthetic=8, real=4)])
    return as_int16(audio[: round(seconds * RATE)])


def _opus_packets(samples: np.ndarray) -> list[bytes]:
    """``samples`` as a browser would send them: Opus (PyAV's libopus, as aiortc encodes), one
    packet per 20 ms."""
    encoder, packets = OpusEncoder(), []
    for index, start in enumerate(range(0, len(samples) - CHUNK + 1, CHUNK)):
        frame = AudioFrame.from_ndarray(samples[start:start + CHUNK].reshape(1, -1),
                                        format="s16", layout="mono")
        frame.sample_rate, frame.pts = RATE, index * CHUNK
        packets += encoder.encode(frame)[0]
    return packets


def delay_figures(settings: Settings) -> list[Figure]:
    delays = speech_delays(settings)
    heard = delays.heard_s or [float("inf")]
    return [
        Figure("onsets heard by the consultant", f"{len(delays.heard_s)} of {ONSETS}",
               f"{ONSETS} of {ONSETS}", delays.missed == 0),
        measured("speech onset → consultant's live view, median s", float(np.median(heard)),
                 ".2f", Target(1.0, True)),
        measured("speech onset → consultant's live view, max s", max(heard), ".2f"),
    ]
