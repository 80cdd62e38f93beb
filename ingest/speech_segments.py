"""From a voice activity detector's frame-by-frame decisions to speech segments.

A detector says, for each short frame of a participant's audio, whether it holds speech. Single
frames flip on clicks, breaths and the gaps between words, so a segment starts only once speech
has lasted :data:`MIN_SPEECH_S` (it then starts where that speech began), and ends only once
silence has lasted :data:`MIN_SILENCE_S` (it then ends where the speech stopped). While a
segment goes on it is reported as it grows, at most every :data:`UPDATE_S`, so that the live
view and the record follow a long monologue as it happens.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_SPEECH_S = 0.25
MIN_SILENCE_S = 0.5
UPDATE_S = 1.0


@dataclass(frozen=True)
class SegmentUpdate:
    """The ``seq``-th segment of the stream, from ``start`` to ``end`` (seconds on the stream's
    clock); ``ongoing`` while the person is still speaking (its end will move on)."""

    seq: int
    start: float
    end: float
    ongoing: bool


class Segmenter:
    def __init__(self, min_speech_s: float = MIN_SPEECH_S,
                 min_silence_s: float = MIN_SILENCE_S, update_s: float = UPDATE_S) -> None:
        self._min_speech_s, self._min_silence_s = min_speech_s, min_silence_s
        self._update_s = update_s
        self._seq = 0
        self._speech_from: float | None = None  # start of the current run of speech frames
        self._speech_until: float | None = None  # end of the last speech frame
        self._open: tuple[float, float] | None = None  # (start, last reported end)

    @property
    def speaking(self) -> bool:
        return self._open is not None

    def push(self, speech: bool, start: float, end: float) -> list[SegmentUpdate]:
        """The decision for the frame from ``start`` to ``end``; what changed, if anything."""
        changes = []
        # Silence this long, within frames or between them (none came), ends what went on.
        quiet_until = start if speech else end
        if self._speech_until is not None \
                and quiet_until - self._speech_until >= self._min_silence_s:
            ended = self.close()
            changes += [ended] if ended else []
        if speech:
            if self._speech_from is None:
                self._speech_from = start
            self._speech_until = end
            changes += self._speaking(end)
        return changes

    def close(self) -> SegmentUpdate | None:
        """The stream ended (or analysis stopped): the segment going on ends where speech did."""
        update = None
        if self._open is not None and self._speech_until is not None:
            update = SegmentUpdate(self._seq, self._open[0], self._speech_until, ongoing=False)
            self._seq += 1
        self._open, self._speech_from, self._speech_until = None, None, None
        return update

    def _speaking(self, end: float) -> list[SegmentUpdate]:
        assert self._speech_from is not None
        if self._open is None:
            if end - self._speech_from < self._min_speech_s:
                return []
            self._open = (self._speech_from, end)
        elif end - self._open[1] >= self._update_s:
            self._open = (self._open[0], end)
        else:
            return []
        return [SegmentUpdate(self._seq, self._open[0], end, ongoing=True)]
