"""From a participant starting to speak to their consultant's live view saying so, through the
whole live path: an aiortc participant who agreed to voice analysis publishes their microphone
through the SFU (a Janus of the benchmark's own, ``econsult janus``), ingest subscribes to it,
decodes and detects (ingest/voice_tap.py) and tells the consultant's WebSocket (ingest/talk.py).

The microphone says espeak-ng sentences of the speech corpus, each after :data:`SILENCE_S` of a
quiet room, paced in real time 20 ms at a time. An onset's delay runs from the moment the frame
holding the sentence's first sample goes to aiortc to the moment a ``speech`` message first
names the participant speaking again.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from dataclasses import dataclass

import aiohttp
import numpy as np
from aiortc.mediastreams import MediaStreamTrack
from av import AudioFrame

from bench.pipeline import cleanup
from bench.room_load import room_bench_settings
from bench.services import Services
from bench.speech_accuracy import CHUNK, ROOM_DBFS, as_int16
from bench.speech_corpus import ENGLISH, RATE, SPEECH_DBFS, noise, synthesize
from contracts.accounts import COOKIE, sign_in
from contracts.database import engine_for
from contracts.settings import Settings
from migrations.runner import upgrade
from tests.support.accounts import account, set_up, token
from tests.support.processes import health
from tests.support.signalling import RoomSocket

ONSETS = 10
# Before each sentence: the segment of the one before has ended (after 0.5 s of silence) and
# the consultant has heard so, whatever the delay.
SILENCE_S = 3.0
ROOM_CHUNKS = 50  # the room's sound, a second long, played round
VOICES = ("en-us+m3", "en-gb+f2", "en-us+f4", "en+m1", "en-gb-x-rp+m7")
SUBSCRIBED_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Delays:
    heard_s: list[float]  # each onset the consultant heard, in order
    missed: int  # onsets never heard before the next one


class SpokenSentences(MediaStreamTrack):
    """A microphone in a quiet room; once :meth:`speak` is called, it says its sentences, noting
    when each one's first sample is sent."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.samples, self.onsets = _sentences()
        self.sent_at: list[float] = []  # monotonic time each onset went out
        self.said = asyncio.Event()  # every sentence sent
        self._room = as_int16(noise("pink", CHUNK * ROOM_CHUNKS, 0) * 10 ** (ROOM_DBFS / 20))
        self._speaking_from: int | None = None
        self._count = 0
        self._started: float | None = None

    def speak(self) -> None:
        self._speaking_from = self._count

    async def recv(self) -> AudioFrame:
        self._started = self._started or time.monotonic()
        due = self._started + self._count * CHUNK / RATE
        await asyncio.sleep(max(0.0, due - time.monotonic()))  # pacing the microphone
        frame = AudioFrame.from_ndarray(self._chunk().reshape(1, -1), format="s16",
                                        layout="mono")
        frame.sample_rate, frame.pts = RATE, self._count * CHUNK
        frame.time_base = fractions.Fraction(1, RATE)
        self._count += 1
        return frame

    def _chunk(self) -> np.ndarray:
        """The next 20 ms: the room, but for the sentences once told to speak."""
        if self._speaking_from is not None:
            at = (self._count - self._speaking_from) * CHUNK
            if at < len(self.samples):
                if len(self.sent_at) < len(self.onsets) \
                        and self.onsets[len(self.sent_at)] < at + CHUNK:
                    self.sent_at.append(time.monotonic())
                return self.samples[at:at + CHUNK]
            self.said.set()
        start = self._count % ROOM_CHUNKS * CHUNK
        return self._room[start:start + CHUNK]


def _sentences() -> tuple[np.ndarray, list[int]]:
    """ONSETS sentences in several voices at a talker's level, each after SILENCE_S of the
    room; and the sample each one starts on."""
    pieces, onsets, at = [], [], 0
    for index in range(ONSETS):
        spoken = synthesize(ENGLISH[index * 3 % len(ENGLISH)], VOICES[index % len(VOICES)])
        spoken = spoken * 10 ** (SPEECH_DBFS / 20) / (np.sqrt(np.mean(spoken**2)) + 1e-12)
        before = noise("pink", round(SILENCE_S * RATE), index) * 10 ** (ROOM_DBFS / 20)
        pieces += [before, spoken]
        onsets.append(at + len(before))
        at += len(before) + len(spoken)
    return as_int16(np.concatenate(pieces)), onsets


class Consultant(RoomSocket):
    """The consultant's socket, noting when each ``speech`` message says whether ``watched``
    is speaking."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        super().__init__(ws)
        self.watched = ""
        self.told: list[tuple[float, bool]] = []  # (monotonic time, speaking?)

    def heard(self, message: dict) -> None:
        if message["type"] == "speech" and self.watched:
            self.told.append((time.monotonic(), self.watched in message["speaking"]))
        super().heard(message)

    def started_speaking(self) -> list[float]:
        """When the consultant was told the watched participant started speaking."""
        was, starts = False, []
        for at, speaking in self.told:
            if speaking and not was:
                starts.append(at)
            was = speaking
        return starts


def speech_delays(settings: Settings) -> Delays:
    bench = room_bench_settings(settings)
    upgrade(bench.database_url)
    engine = engine_for(bench.database_url)
    try:
        with Services("econsult-bench-speech-") as services:
            services.janus(bench)
            url, _ = services.ingest(bench)
            host = account(engine)
            links = set_up(engine, bench, url, "consultation", host)
            return asyncio.run(_call(url, links.room.name, token(links.guests),
                                     sign_in(engine, host, 1.0)))
    finally:
        engine.dispose()
        cleanup(bench)


async def _call(url: str, room: str, invitation: str, cookie: str) -> Delays:
    """The consultant joins, then the participant, who speaks once ingest analyses them."""
    socket = f"{url}/room/{room}/ws"
    async with aiohttp.ClientSession() as http:
        consultant = Consultant(await http.ws_connect(
            socket, headers={"Cookie": f"{COOKIE}={cookie}"}))
        async with consultant:
            await consultant.join(None, "Dr Bench", consent=False)
            async with RoomSocket(await http.ws_connect(socket)) as speaker:
                joined = await speaker.join(invitation, "Speaker", consent=False, voice=True)
                consultant.watched = joined["id"]
                microphone = SpokenSentences()
                await speaker.publish(microphone)
                await _analysed(url)
                microphone.speak()
                await microphone.said.wait()
                await asyncio.sleep(SILENCE_S)  # the last sentence's news to arrive
        return _delays(microphone.sent_at, consultant.started_speaking())


async def _analysed(url: str) -> None:
    deadline = time.monotonic() + SUBSCRIBED_TIMEOUT_S
    while (health(url) or {}).get("analysis_peers") != 1:
        if time.monotonic() > deadline:
            raise TimeoutError("ingest did not subscribe to the participant's microphone "
                               f"within {SUBSCRIBED_TIMEOUT_S:.0f} s")
        await asyncio.sleep(0.2)  # polling ingest until it analyses the microphone


def _delays(sent_at: list[float], started: list[float]) -> Delays:
    """Each onset matched with the first start the consultant heard after it and before the
    next onset."""
    heard, missed = [], 0
    for index, sent in enumerate(sent_at):
        until = sent_at[index + 1] if index + 1 < len(sent_at) else float("inf")
        first = next((at for at in started if sent <= at < until), None)
        if first is None:
            missed += 1
        else:
            heard.append(first - sent)
    return Delays(heard, missed + ONSETS - len(sent_at))
