"""A labelled speech corpus, built in memory and deterministically, to measure voice activity.

econsult measures *when* each participant speaks, never what they say. To score that we need
audio whose speaking times are known exactly: espeak-ng sentences in several voices, real
recorded human speech shipped by Debian packages, noise at a known SNR, the other person's
voice leaking in as an echo canceller leaves it, and whole two-person conversations with
turns, interruptions, backchannels and pauses whose times are known.

Everything is 16 kHz mono float32 in [-1, 1], cut into 30 ms frames (480 samples). The truth
of a frame is taken from the *clean* source alone (``speech_labels``): a frame is speech when
its RMS is at least ``floor + 15 dB``, kept between ``peak - 40 dB`` and ``peak - 20 dB``,
with ``peak`` the loudest frame of the clip and ``floor`` its 5th-percentile frame (the
recording's own noise, digital silence for espeak-ng); then gaps shorter than 100 ms between
speech frames are filled (stops and closures inside words).

Needs, from Debian (scripts/install-speech-corpus installs them; nothing is downloaded at run time):
``espeak-ng`` for the synthesized voices, and for the real recordings
``asterisk-core-sounds-en-wav`` (Allison Smith's prompts, CC-BY-SA-3.0) and ``alsa-utils``
(its /usr/share/sounds/alsa speaker-test voice, GPL-2). ``utterances(real=0)`` needs only
espeak-ng. Nothing is written to disk: espeak-ng writes to a pipe, and its output is cached in
memory for the life of the process only.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

Audio = npt.NDArray[np.float32]
Labels = npt.NDArray[np.bool_]

RATE = 16_000
FRAME = 480  # 30 ms at 16 kHz: the frame every label and score is counted on
FIR = 4096  # taps of the echo path: a 0.25 s room tail and the speaker's band
SPEECH_DBFS = -26.0  # a talker's active speech level at their own microphone (ITU-T P.56 habit)
NOISE_KINDS = ("white", "pink", "babble", "fan")
LABEL_RULE = ("speech if frame RMS >= clip(p5 + 15 dB, peak - 40 dB, peak - 20 dB); "
              "gaps < 100 ms filled")

ASTERISK = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
ALSA = Path("/usr/share/sounds/alsa")
ASTERISK_LICENCE = "asterisk-core-sounds-en-wav: Allison Smith, CC-BY-SA-3.0 (Debian)"
ALSA_LICENCE = "alsa-utils speaker-test voice, GPL-2 (Debian)"
ESPEAK_LICENCE = "espeak-ng synthesis, GPL-3+ program; its output is ours"

# Voices differ in language, accent, sex and timbre so that no detector is tuned to one.
VOICES = ("en-us+m3", "en-gb+f2", "en-us+f4", "en+m1", "en-gb-x-rp+m7", "en-029+f3",
          "en-gb-scotland+m5", "en-us+f1", "de+m2", "de+f3", "fr-fr+f1", "fr-fr+m4")
CONSULTANTS = ("en-gb+m3", "en-us+f2", "en-gb-x-rp+f4", "en-us+m7")
CLIENTS = ("en-us+f3", "en-gb-scotland+m1", "en+f1", "en-us+m5")

ENGLISH = (
    "Hello.",
    "Thank you for coming in today.",
    "How have you been feeling since our last appointment?",
    "I have been sleeping a little better, but the mornings are still hard.",
    "Can you tell me more about that?",
    "Most days I wake up around five and I cannot get back to sleep, so I just lie there.",
    "That sounds exhausting.",
    "Have you noticed whether anything in particular makes it worse?",
    "Work, mostly. When there is a deadline coming up I think about it all night long.",
    "Right.",
    "Let us look at the plan we agreed on last time and see what worked.",
    "The breathing exercises helped on some evenings, but I forgot them on others.",
    "That is completely normal at the start.",
    "We could try setting a reminder on your phone at the same time every evening.",
    "I think I could manage that.",
    "What about the walks we talked about?",
    "I went out three times last week, which is more than before.",
    "Three times is real progress, and I want you to notice that.",
    "Sometimes I feel like nothing is changing at all, even when people tell me it is.",
    "Progress is often easier to see from the outside, especially in the first few weeks.",
    "Is there anything you would like to focus on today?",
    "I would like to talk about my sister, because things have been difficult between us.",
    "Of course. Take your time.",
    "She called on Sunday and we ended up arguing about our parents again.",
    "What happened during the call?",
    "She said I never help, and I said she never asks, and then she hung up.",
    "How did you feel afterwards?",
    "Angry at first, and then just tired and a bit sad.",
    "It makes sense that you would feel both of those things.",
    "Before we finish, let us agree on one small step for the coming week.",
    "I could write down three things each evening that went well.",
    "That is a good idea, and it fits well with what we discussed.",
    "Shall we meet again at the same time next Thursday?",
    "Yes, Thursday works for me.",
    "Please remember that you can send me a message if anything urgent comes up.",
    "Thank you, this really helped.",
)
GERMAN = (
    "Guten Tag, wie geht es Ihnen heute?",
    "Ich habe in der letzten Woche viel besser geschlafen.",
    "Können Sie mir bitte genauer erklären, was passiert ist?",
    "Das klingt nach einer schwierigen Zeit für Sie.",
    "Wir sehen uns dann nächste Woche wieder.",
)
FRENCH = (
    "Bonjour, comment allez-vous aujourd'hui?",
    "J'ai eu beaucoup de travail cette semaine et je suis fatigué.",
    "Pouvez-vous me dire ce qui vous inquiète le plus en ce moment?",
    "C'est tout à fait normal de ressentir cela.",
    "Nous pouvons en reparler la prochaine fois.",
)
BACKCHANNELS = ("mm-hm", "uh-huh", "yeah", "right", "okay", "I see", "sure")


@dataclasses.dataclass(frozen=True)
class Clip:
    """One participant's microphone signal and the truth of when *they* speak."""

    name: str
    audio: Audio  # 16 kHz mono float32, a whole number of 30 ms frames
    labels: Labels  # one per 30 ms frame: this participant speaks
    source: str  # where the speech came from, with its licence
    leak: Labels | None = None  # frames where another voice leaks in (with_leak only)

    @property
    def seconds(self) -> float:
        return len(self.audio) / RATE


@dataclasses.dataclass(frozen=True)
class Segment:
    """A stretch of one speaker's speech: ``kind`` is turn, interruption or backchannel."""

    speaker: str
    start_s: float
    end_s: float
    kind: str


@dataclasses.dataclass(frozen=True)
class Conversation:
    """Two participants' own microphones (each hears the other leak in) and the true segments."""

    tracks: dict[str, Audio]  # "A" consultant, "B" client
    labels: dict[str, Labels]  # per 30 ms frame, each participant's own speech
    segments: list[Segment]
    voices: dict[str, str]

    @property
    def seconds(self) -> float:
        return len(self.tracks["A"]) / RATE

    def share(self) -> dict[str, float]:
        """Each speaker's share of the speaking time, as the truth labels count it."""
        totals = {speaker: float(labels.sum()) for speaker, labels in self.labels.items()}
        return {speaker: total / sum(totals.values()) for speaker, total in totals.items()}


# --- frames and levels -------------------------------------------------------------------------


def frame_db(audio: Audio) -> npt.NDArray[np.float64]:
    """RMS level of each whole 30 ms frame, in dBFS."""
    frames = audio[: len(audio) // FRAME * FRAME].reshape(-1, FRAME).astype(np.float64)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)


def speech_labels(clean: Audio) -> Labels:
    """Truth from the clean source: loud enough against both its peak and its own noise."""
    db = frame_db(clean)
    if len(db) == 0:
        return np.zeros(0, bool)
    peak = db.max()
    threshold = np.clip(np.percentile(db, 5) + 15.0, peak - 40.0, peak - 20.0)
    return fill_gaps(db >= threshold, max_gap=3)  # 3 frames: gaps under 100 ms


def fill_gaps(labels: Labels, max_gap: int) -> Labels:
    """Mark as speech every run of at most ``max_gap`` non-speech frames between speech."""
    out = labels.copy()
    speech = np.flatnonzero(labels)
    for before, after in itertools.pairwise(speech):
        if 1 < after - before <= max_gap + 1:
            out[before + 1 : after] = True
    return out


def speech_level(audio: Audio, labels: Labels) -> float:
    """Active speech level in dBFS: mean power over the speech frames only."""
    frames = audio[: len(labels) * FRAME].reshape(-1, FRAME)[labels].astype(np.float64)
    return float(10 * np.log10(np.mean(frames**2) + 1e-12)) if len(frames) else -120.0


def _at_level(audio: Audio, labels: Labels, dbfs: float) -> Audio:
    gain = 10 ** ((dbfs - speech_level(audio, labels)) / 20)
    return (audio * gain).astype(np.float32)


def _whole_frames(audio: Audio) -> Audio:
    return np.pad(audio, (0, -len(audio) % FRAME)).astype(np.float32)


def _finish(audio: Audio) -> Audio:
    return np.clip(audio, -1.0, 1.0).astype(np.float32)


# --- sources -----------------------------------------------------------------------------------


def resample(audio: npt.NDArray[np.floating], rate: int) -> Audio:
    """Band-limited resampling to 16 kHz by FFT (clips start and end in near-silence)."""
    if rate == RATE:
        return audio.astype(np.float32)
    step = rate // math.gcd(rate, RATE)  # zero-padded to step × 2^k: an exact, fast ratio
    padded = step * 2 ** math.ceil(math.log2(max(1, len(audio)) / step + 1))
    size = padded * RATE // rate
    spectrum = np.fft.rfft(audio.astype(np.float64), padded)
    kept = np.zeros(size // 2 + 1, complex)
    count = min(len(kept), len(spectrum))
    kept[:count] = spectrum[:count]
    out = np.fft.irfft(kept, size) * size / padded
    return out[: round(len(audio) * RATE / rate)].astype(np.float32)


def _wav(data: bytes) -> tuple[npt.NDArray[np.float64], int]:
    """16-bit PCM from a WAV held in memory; streamed headers carry no usable data length."""
    rate = int.from_bytes(data[24:28], "little")
    channels = int.from_bytes(data[22:24], "little")
    body = data[data.index(b"data") + 8 :]
    pcm = np.frombuffer(body[: len(body) // 2 * 2], "<i2").astype(np.float64) / 32768
    return pcm[: len(pcm) // channels * channels].reshape(-1, channels).mean(axis=1), rate


@functools.cache
def synthesize(text: str, voice: str, speed: int = 160, pitch: int = 50) -> Audio:
    """espeak-ng's voice at 16 kHz, trimmed of its edges; cached for this process only."""
    command = ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text]
    pcm, rate = _wav(subprocess.run(command, capture_output=True, check=True).stdout)
    audio = resample(pcm, rate)
    speech = np.flatnonzero(np.abs(audio) > 1e-3)
    audio = audio[speech[0] : speech[-1] + 1] if len(speech) else audio
    audio.setflags(write=False)
    return audio


@functools.cache
def _recording(path: Path) -> Audio:
    pcm, rate = _wav(path.read_bytes())
    audio = resample(pcm, rate)
    audio.setflags(write=False)
    return audio


def asterisk_prompts() -> list[Path]:
    """Allison Smith's recorded prompts, without the tones and beeps filed beside them."""
    if not ASTERISK.is_dir():
        raise FileNotFoundError(f"{ASTERISK} is missing: run scripts/install-speech-corpus")
    return sorted(path for path in ASTERISK.glob("*.wav")
                  if "tone" not in path.name and not path.name.startswith("beep"))


def alsa_voices() -> list[Path]:
    """The speaker-test voice of alsa-utils ("Front left", …), without its Noise.wav."""
    if not ALSA.is_dir():
        raise FileNotFoundError(f"{ALSA} is missing: run scripts/install-speech-corpus")
    return sorted(path for path in ALSA.glob("*.wav") if path.name != "Noise.wav")


# --- utterances --------------------------------------------------------------------------------


def _joined(parts: Sequence[Audio], rng: np.random.Generator) -> Audio:
    """Parts with pauses of 0.3–0.8 s between them and 0.5–1 s of silence around them."""
    pieces: list[Audio] = [np.zeros(int(rng.uniform(0.5, 1.0) * RATE), np.float32)]
    for index, part in enumerate(parts):
        if index:
            pieces.append(np.zeros(int(rng.uniform(0.3, 0.8) * RATE), np.float32))
        pieces.append(part)
    pieces.append(np.zeros(int(rng.uniform(0.5, 1.0) * RATE), np.float32))
    return _whole_frames(np.concatenate(pieces))


def _clip(name: str, audio: Audio, source: str, rng: np.random.Generator) -> Clip:
    """Labelled from the clean signal, then set to a speech level of -26 dBFS ± 6 dB."""
    labels = speech_labels(audio)
    level = SPEECH_DBFS + rng.uniform(-6.0, 6.0)
    return Clip(name, _finish(_at_level(audio, labels, level)), labels, source)


def _sentences(voice: str) -> tuple[str, ...]:
    return {"de": GERMAN, "fr": FRENCH}.get(voice[:2], ENGLISH)


def _synthetic(index: int, rng: np.random.Generator) -> Clip:
    voice = VOICES[index % len(VOICES)]
    speed, pitch = int(rng.integers(130, 200)), int(rng.integers(30, 71))
    bank = _sentences(voice)
    texts = [bank[i] for i in rng.choice(len(bank), int(rng.integers(1, 4)), replace=False)]
    parts = [synthesize(text, voice, speed, pitch) for text in texts]
    name = f"espeak {voice} s{speed} p{pitch} #{index}"
    return _clip(name, _joined(parts, rng), ESPEAK_LICENCE, rng)


def _real(index: int, rng: np.random.Generator) -> Clip:
    """Every fifth real clip is the ALSA voice, the rest 2–4 of Allison Smith's prompts."""
    if index % 5 == 4:
        paths = list(rng.choice(alsa_voices(), 3, replace=False))
        source = ALSA_LICENCE
    else:
        paths = list(rng.choice(asterisk_prompts(), int(rng.integers(2, 5)), replace=False))
        source = ASTERISK_LICENCE
    parts = [_recording(path) for path in paths]
    name = "recorded " + " ".join(path.stem for path in paths)
    return _clip(name, _joined(parts, rng), source, rng)


def utterances(synthetic: int = 80, real: int = 20, seed: int = 0) -> list[Clip]:
    """Clean labelled clips: ``synthetic`` espeak-ng ones over all VOICES, then ``real`` ones."""
    rng = np.random.default_rng(seed)
    clips = [_synthetic(index, rng) for index in range(synthetic)]
    return clips + [_real(index, rng) for index in range(real)]


def silence(seconds: float) -> Clip:
    """A participant who says nothing (digital silence; add ``floor`` for their room)."""
    frames = round(seconds * RATE / FRAME)
    return Clip("silence", np.zeros(frames * FRAME, np.float32), np.zeros(frames, bool), "none")


# --- noise -------------------------------------------------------------------------------------


def _shaped(size: int, rng: np.random.Generator, gain: npt.NDArray[np.float64]) -> Audio:
    """White Gaussian noise through a frequency response sampled on rfft bins of ``size``."""
    spectrum = np.fft.rfft(rng.standard_normal(size)) * gain
    noise = np.fft.irfft(spectrum, size)
    return (noise / (np.std(noise) + 1e-12)).astype(np.float32)


def _pink(size: int, rng: np.random.Generator) -> Audio:
    hz = np.fft.rfftfreq(size, 1 / RATE)
    return _shaped(size, rng, 1 / np.sqrt(np.maximum(hz, 20.0)))


def _fan(size: int, rng: np.random.Generator) -> Audio:
    """Low, rumbling broadband air noise plus a wavering blade-pass tone and its harmonics."""
    hz = np.fft.rfftfreq(size, 1 / RATE)
    air = _shaped(size, rng, 1 / (1 + (hz / 250.0) ** 2) + 0.05 / (1 + (hz / 3000.0) ** 2))
    t = np.arange(size) / RATE
    blade = rng.uniform(80.0, 160.0)
    wander = 2 * np.pi * np.cumsum(0.5 * np.sin(2 * np.pi * 0.1 * t + rng.uniform(0, 6))) / RATE
    tones = sum(np.sin(2 * np.pi * blade * k * t + k * wander) / k for k in range(1, 5))
    flutter = 1 + 0.2 * np.sin(2 * np.pi * rng.uniform(1.0, 3.0) * t)
    mixed = air + 0.5 * tones * flutter
    return (mixed / np.std(mixed)).astype(np.float32)


def _talker(size: int, rng: np.random.Generator) -> Audio:
    """One voice in the crowd: sentences end to end, level-matched, in a random espeak voice
    at its default speed (so that the cache serves every babble after the first ones)."""
    voice = VOICES[int(rng.integers(len(VOICES)))]
    bank, parts, total = _sentences(voice), [], 0
    while total < size:
        part = synthesize(bank[int(rng.integers(len(bank)))], voice)
        parts.append(part / (np.std(part) + 1e-12))
        total += len(part)
    start = int(rng.integers(0, total - size + 1))
    return np.concatenate(parts)[start : start + size].astype(np.float32)


def _babble(size: int, rng: np.random.Generator) -> Audio:
    """Six talkers at once: a café or open office, speech-like but no one voice to follow."""
    mixed = sum(_talker(size, rng) for _ in range(6))
    return (mixed / (np.std(mixed) + 1e-12)).astype(np.float32)


def noise(kind: str, size: int, seed: int) -> Audio:
    """Unit-RMS noise of one of NOISE_KINDS, the same for the same seed."""
    rng = np.random.default_rng(seed)
    makers = {"white": lambda: rng.standard_normal(size).astype(np.float32),
              "pink": lambda: _pink(size, rng), "fan": lambda: _fan(size, rng),
              "babble": lambda: _babble(size, rng)}
    return makers[kind]()


def noisy(clip: Clip, snr_db: float, kind: str = "pink", seed: int = 0) -> Clip:
    """The clip with noise added at ``snr_db`` below its speech level (speech frames only)."""
    level = speech_level(clip.audio, clip.labels) - snr_db
    return _with_noise(clip, level, kind, seed, f"{kind} {snr_db:g} dB SNR")


def floor(clip: Clip, dbfs: float = -60.0, kind: str = "pink", seed: int = 0) -> Clip:
    """The clip with a room's noise floor at an absolute level (for clips with no speech)."""
    return _with_noise(clip, dbfs, kind, seed, f"{kind} floor {dbfs:g} dBFS")


def _with_noise(clip: Clip, dbfs: float, kind: str, seed: int, what: str) -> Clip:
    added = noise(kind, len(clip.audio), seed) * 10 ** (dbfs / 20)
    return dataclasses.replace(clip, name=f"{clip.name} + {what}",
                               audio=_finish(clip.audio + added))


# --- leak --------------------------------------------------------------------------------------


def echo_residue(audio: Audio, seed: int = 0) -> Audio:
    """What an echo canceller leaves of the far voice: a laptop speaker's band through a small
    room (RT60 ≈ 0.3 s), so the leak is coloured and smeared like the real thing."""
    rng = np.random.default_rng(seed)
    taps = np.arange(int(0.25 * RATE)) / RATE
    room = rng.standard_normal(len(taps)) * np.exp(-taps * 6.9 / 0.3) * 0.3
    room[0] = 1.0
    hz = np.fft.rfftfreq(2 * FIR, 1 / RATE)
    speaker = 1 / (1 + (250.0 / np.maximum(hz, 1.0)) ** 2) / (1 + (hz / 6000.0) ** 4)
    response = np.fft.irfft(np.fft.rfft(room, 2 * FIR) * speaker)[:FIR]
    return _convolve(audio, response)


def _convolve(audio: Audio, response: npt.NDArray[np.float64]) -> Audio:
    """Overlap-add FFT convolution in blocks, cut to the input's length: fast on any length."""
    size = 8 * FIR
    block = size - len(response) + 1
    out = np.zeros(len(audio) + size, np.float64)
    kernel = np.fft.rfft(response, size)
    for start in range(0, len(audio), block):
        chunk = np.fft.irfft(np.fft.rfft(audio[start : start + block], size) * kernel, size)
        out[start : start + size] += chunk
    return out[: len(audio)].astype(np.float32)


def _leaked(own_level: float, other: Audio, other_labels: Labels, leak_db: float,
            seed: int) -> Audio:
    residue = echo_residue(other, seed)
    return _at_level(residue, other_labels, own_level + leak_db)


def with_leak(own: Clip, other: Clip, leak_db: float = -20.0, seed: int = 0) -> Clip:
    """``own`` with ``other``'s voice leaking in at ``leak_db`` relative to own speech level
    (-26 dBFS when own is silent); labels stay own's, ``leak`` marks the other's frames."""
    frames = len(own.labels)
    audio = _whole_frames(np.pad(other.audio, (0, max(0, len(own.audio) - len(other.audio)))))
    labels = np.pad(other.labels, (0, max(0, frames - len(other.labels))))[:frames]
    audio = audio[: frames * FRAME]
    level = speech_level(own.audio, own.labels) if own.labels.any() else SPEECH_DBFS
    leak = _leaked(level, audio, labels, leak_db, seed)
    return Clip(f"{own.name} + leak of {other.name} at {leak_db:g} dB",
                _finish(own.audio + leak), own.labels, own.source, labels & ~own.labels)


# --- conversations -----------------------------------------------------------------------------


@dataclasses.dataclass
class _Placed:
    speaker: str
    start: int  # in frames
    audio: Audio
    labels: Labels
    kind: str


def _turn_sentences(speaker: str, rng: np.random.Generator) -> int:
    """The consultant talks in longer turns, which with the pauses makes about 60/40."""
    return int(rng.integers(2, 5)) if speaker == "A" else int(rng.integers(1, 4))


def _response_pause(rng: np.random.Generator) -> float:
    """Mostly 0.2–3 s before the answer, one gap in sixteen a long 5–15 s silence."""
    if rng.random() < 1 / 16:
        return float(rng.uniform(5.0, 15.0))
    return float(min(3.0, 0.2 + rng.gamma(2.0, 0.35)))


def _utterance(text: str, voice: str, rng: np.random.Generator) -> tuple[Audio, Labels]:
    audio = _whole_frames(synthesize(text, voice, int(rng.integers(145, 185))))
    return audio, speech_labels(audio)


def _backchannel(voice: str, rng: np.random.Generator) -> tuple[Audio, Labels]:
    """"mm-hm", "yeah" …: said fast and cut under 0.9 s, so never mistaken for a turn."""
    text = BACKCHANNELS[int(rng.integers(len(BACKCHANNELS)))]
    audio = synthesize(text, voice, 210)[: int(0.9 * RATE)]
    audio = _whole_frames(audio * np.hanning(len(audio)) ** 0.1)
    return audio, speech_labels(audio)


class _Timeline:
    """Places utterances frame by frame; a turn's sentences follow one another with short
    pauses, the listener may backchannel inside a long turn, and the next speaker may cut in."""

    def __init__(self, voices: dict[str, str], frames: int, rng: np.random.Generator) -> None:
        self.voices, self.frames, self.rng = voices, frames, rng
        self.placed: list[_Placed] = []

    def turn(self, speaker: str, start: int, kind: str) -> int:
        """Place one turn from frame ``start``; return the frame its last sentence ends on."""
        bank, at, end = _sentences(self.voices[speaker]), start, start
        for index in range(_turn_sentences(speaker, self.rng)):
            text = bank[int(self.rng.integers(len(bank)))]
            audio, labels = _utterance(text, self.voices[speaker], self.rng)
            if at + len(labels) > self.frames:
                break
            self.placed.append(_Placed(speaker, at, audio, labels, kind if index == 0 else "turn"))
            end = at + len(labels)
            at = end + self._frames(self.rng.uniform(0.15, 0.6))
        self._maybe_backchannel("B" if speaker == "A" else "A", start, end)
        return end

    def _maybe_backchannel(self, listener: str, start: int, end: int) -> None:
        if end - start < self._frames(3.0) or self.rng.random() > 0.4:
            return
        audio, labels = _backchannel(self.voices[listener], self.rng)
        at = int(self.rng.integers(start + self._frames(1.0), end - self._frames(1.5)))
        self.placed.append(_Placed(listener, at, audio, labels, "backchannel"))

    def interrupt(self, speaker: str) -> int | None:
        """Cut the other's last sentence short: ``speaker`` starts while it is still going, the
        other stops 0.3–1 s later; returns the frame the interruption starts at, or None when
        that sentence is too short to be interrupted."""
        last = next(p for p in reversed(self.placed) if p.speaker != speaker
                    and p.kind != "backchannel")
        speech = np.flatnonzero(last.labels)  # frames within the interrupted sentence
        low, high = speech[0] + self._frames(0.4), speech[-1] - self._frames(0.4)
        if high <= low:
            return None
        cut_in = int(self.rng.integers(low, high))
        stop = cut_in + self._frames(self.rng.uniform(0.3, 1.0))
        if stop < len(last.labels):
            last.audio = last.audio[: stop * FRAME].copy()
            last.audio[-FRAME:] *= np.linspace(1.0, 0.0, FRAME, dtype=np.float32)
            last.labels = speech_labels(last.audio)
        at = last.start + cut_in
        # A backchannel the interrupter had planned inside that turn would now talk over itself.
        self.placed = [p for p in self.placed if not (
            p.speaker == speaker and p.kind == "backchannel" and p.start + len(p.labels) > at)]
        return at

    def _frames(self, seconds: float) -> int:
        return round(seconds * RATE / FRAME)


def _plan(voices: dict[str, str], frames: int, rng: np.random.Generator) -> list[_Placed]:
    """Alternate turns from 0.5 s on; one change of speaker in six is an interruption."""
    timeline, speaker, at = _Timeline(voices, frames, rng), "A", round(0.5 * RATE / FRAME)
    end = timeline.turn(speaker, at, "turn")
    while end < frames - round(2.0 * RATE / FRAME):
        speaker = "B" if speaker == "A" else "A"
        cut_in = timeline.interrupt(speaker) if rng.random() < 1 / 6 else None
        if cut_in is not None:
            at, kind = cut_in, "interruption"
        else:
            at, kind = end + round(_response_pause(rng) * RATE / FRAME), "turn"
        if at >= frames:
            break
        end = timeline.turn(speaker, at, kind)
    return timeline.placed


def _own_track(placed: list[_Placed], speaker: str, frames: int) -> tuple[Audio, Labels]:
    audio, labels = np.zeros(frames * FRAME, np.float32), np.zeros(frames, bool)
    for item in (p for p in placed if p.speaker == speaker):
        stop = min(frames, item.start + len(item.labels))
        audio[item.start * FRAME : stop * FRAME] += item.audio[: (stop - item.start) * FRAME]
        labels[item.start : stop] |= item.labels[: stop - item.start]
    return audio, labels


def _segments(placed: list[_Placed]) -> list[Segment]:
    """Each utterance from its first to its last speech frame, in order of start."""
    segments = []
    for item in placed:
        speech = np.flatnonzero(item.labels)
        if len(speech):
            start, end = (item.start + speech[0]) * FRAME, (item.start + speech[-1] + 1) * FRAME
            segments.append(Segment(item.speaker, float(start / RATE), float(end / RATE),
                                    item.kind))
    return sorted(segments, key=lambda segment: segment.start_s)


def _microphones(placed: list[_Placed], frames: int, seed: int
                 ) -> tuple[dict[str, Audio], dict[str, Labels]]:
    """Each participant's mic: their own voice at their level, the other's echo residue 20 dB
    below it, and their room (consultant: quiet pink -62 dBFS; client: a fan at -55 dBFS)."""
    own = {speaker: _own_track(placed, speaker, frames) for speaker in ("A", "B")}
    levels = {"A": SPEECH_DBFS + 2.0, "B": SPEECH_DBFS - 3.0}
    rooms = {"A": ("pink", -62.0), "B": ("fan", -55.0)}
    tracks = {}
    for index, (speaker, other) in enumerate((("A", "B"), ("B", "A"))):
        voice = _at_level(own[speaker][0], own[speaker][1], levels[speaker])
        leak = _leaked(levels[speaker], own[other][0], own[other][1], -20.0, seed + index)
        kind, dbfs = rooms[speaker]
        room = noise(kind, frames * FRAME, seed + 10 + index) * 10 ** (dbfs / 20)
        tracks[speaker] = _finish(voice + leak + room)
    return tracks, {speaker: own[speaker][1] for speaker in own}


def conversation(seconds: float = 300.0, seed: int = 0) -> Conversation:
    """A consultation between A (consultant) and B (client), each on their own microphone.

    The truth has turns with 0.2–3 s response pauses and some 5–15 s silences,
    interruptions (the next speaker starts while the other is mid-sentence, who then stops),
    and backchannels under 1 s inside the other's turn, which are not interruptions.
    """
    rng = np.random.default_rng(seed)
    voices = {"A": CONSULTANTS[seed % len(CONSULTANTS)], "B": CLIENTS[seed % len(CLIENTS)]}
    frames = round(seconds * RATE / FRAME)
    placed = _plan(voices, frames, rng)
    tracks, labels = _microphones(placed, frames, seed)
    return Conversation(tracks, labels, _segments(placed), voices)
