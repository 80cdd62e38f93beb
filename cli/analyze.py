"""``econsult analyze VIDEO``: a recorded consultation through the same stream as a live room.

Publishes the session's room events, the speech segments of its sound (when it has any, unless
``--no-voice``: voice activity only, never what is said) and its sampled frames, waits until the
workers have stored every frame (with a progress bar) and the session's end, then prints a
summary: once it returns, the database holds the whole session. Publishing stays at
most ``IN_FLIGHT`` frames ahead of what is stored, so the stream's length cap never trims a
frame of this analysis and a long video does not flood Redis.

Nothing is lost to an outage: while Redis or PostgreSQL is unreachable it says so and waits,
then carries on; if Redis came back empty (restarted), it publishes the session, its speech,
every frame not yet stored and its end again (it keeps those in memory). A recording that is
damaged or shorter than its header says is analysed as far as it can be read, its session is
closed as incomplete, and the command says how much was read and exits with
``EXIT_INCOMPLETE``. Ctrl-C closes the session as interrupted.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
from sqlalchemy import Connection, Engine, func, select
from tqdm import tqdm

from cli import CommandError
from cli.summary import print_summary
from contracts.database import engine_for
from contracts.emotion_model import ModelCard, card_path
from contracts.frames import Frame, publish_frame
from contracts.outage import Outage
from contracts.redis_connection import connect
from contracts.room_events import RoomEvent, publish_room_event
from contracts.schema import Participant, Sample, Session, SpeechSegment
from contracts.settings import Settings
from contracts.stream import HEARTBEAT_TTL_S, StreamKeys, live_workers
from contracts.stream_fields import StreamFormatError, check_name
from ingest.encoding import encode_frame
from ingest.recording import Recording, RecordingError, probe, sampled_frames, sound
from ingest.voice_activity import SpeechDetector

IN_FLIGHT = 256
POLL_S = 0.2
EXIT_INCOMPLETE = 3
# A recording whose frames stop this much short of its declared length was cut off.
TRUNCATED_SHARE = 0.9


@dataclass(frozen=True)
class AnalyzeRequest:
    video: Path
    room: str
    participant: str = "client"
    role: str = "client"
    consultant: str | None = None
    realtime: bool = False
    timeout_s: float = 60.0
    voice: bool = True


def analyze(request: AnalyzeRequest, settings: Settings) -> int:
    try:
        for name, value in (("--room", request.room), ("--participant", request.participant),
                            ("--consultant", request.consultant)):
            if value is not None:
                check_name(value, name)
        recording = probe(request.video)
    except (StreamFormatError, RecordingError) as exc:
        raise CommandError(str(exc)) from None
    client = connect(settings.redis_url)
    engine = engine_for(settings.database_url)
    keys = StreamKeys.for_prefix(settings.redis_prefix)
    outage = Outage(_say)
    try:
        _require_workers(client, keys, outage)
        with tqdm(total=recording.estimated_samples(settings.sample_fps), unit="frame",
                  desc="analysed", leave=True) as bar:
            session = _Session(request, settings, client, engine, keys, bar, outage)
            incomplete = session.analyse(recording)
        card = ModelCard.read(card_path(Path(settings.model_path)))
        print_summary(engine, session.session_id, session.participant_id, request,
                      card.ferplus_accuracy, None if session.voice else (
                          "the recording has no sound" if request.voice else "--no-voice"))
    finally:
        client.close()
        engine.dispose()
    if incomplete:
        print(f"econsult analyze: {incomplete}; the session is closed as incomplete",
              file=sys.stderr)
        return EXIT_INCOMPLETE
    return 0


class _Session:
    """One recording's session on the stream, from its start to its end."""

    def __init__(self, request: AnalyzeRequest, settings: Settings, client: redis.Redis,
                 engine: Engine, keys: StreamKeys, bar: tqdm, outage: Outage) -> None:
        self.request, self.settings = request, settings
        self.client, self.engine, self.keys, self.bar = client, engine, keys, bar
        self.session_id, self.participant_id = uuid.uuid4(), uuid.uuid4()
        self.capture_id, self.sound_capture_id = uuid.uuid4(), uuid.uuid4()
        self.voice = False  # whether its sound is analysed: once known to have any
        self.started = datetime.now(UTC)
        self.outage = outage
        self.unstored: dict[int, Frame] = {}
        self.speech: list[RoomEvent] = []
        self.ending: list[RoomEvent] = []
        self.closed = False  # whether the workers have stored the end published
        self.stored = 0
        self._run_id: str | None = None
        self._polled = 0.0

    def analyse(self, recording: Recording) -> str | None:
        """Publish the whole session; what was wrong with the recording, if it was cut short."""
        self.voice = self.request.voice and recording.has_sound
        self.outage.retry(self._announce)
        frames, offset, incomplete = 0, 0.0, None
        try:
            try:
                if self.voice:
                    self._publish_speech()
                for frames, (offset, image) in enumerate(self._paced(), start=1):
                    self._publish(frames - 1, offset, image)
                    self._wait_until_stored(frames - IN_FLIGHT)
            except RecordingError as exc:
                incomplete = f"{exc}: read {frames} frames, {offset:.1f} s of the video"
            incomplete = incomplete or _truncation(recording, frames, offset,
                                                   self.settings.sample_fps)
            self._wait_until_stored(frames)
        except KeyboardInterrupt:
            self._end(offset, "interrupted")
            raise
        self._end(offset, "incomplete" if incomplete else "ended")
        self._wait_until_closed()
        return incomplete

    def _announce(self) -> None:
        publish_room_event(self.client, self.keys, RoomEvent(
            "session_started", self.session_id, self.started, room=self.request.room,
            consultant=self.request.consultant, source="recording"))
        # Whoever runs the analysis vouches that the person filmed agreed to it (see README).
        publish_room_event(self.client, self.keys, RoomEvent(
            "participant_joined", self.session_id, self.started,
            participant_id=self.participant_id, role=self.request.role,
            display_name=self.request.participant, consent_at=self.started,
            voice_consent_at=self.started if self.voice else None))

    def _publish_speech(self) -> None:
        """Every speech segment of the recording's sound, the whole sound heard first (it takes
        a second or so a minute); a sound that breaks off is analysed as far as it goes."""
        detector, segments = SpeechDetector(), []
        for offset, samples in sound(self.request.video):
            segments += [u for u in detector.hear(samples, offset) if not u.ongoing]
        segments += [last] if (last := detector.close()) else []
        self.speech = [RoomEvent("speech", self.session_id,
                                 self.started + timedelta(seconds=segment.start),
                                 participant_id=self.participant_id,
                                 capture_id=self.sound_capture_id, seq=segment.seq,
                                 until=self.started + timedelta(seconds=segment.end))
                       for segment in segments]
        self._publish_events(self.speech)

    def _publish(self, seq: int, offset: float, image: object) -> None:
        jpeg = encode_frame(image, self.settings.frame_max_width, self.settings.jpeg_quality)
        captured = (datetime.now(UTC) if self.request.realtime
                    else self.started + timedelta(seconds=offset))
        frame = Frame(self.session_id, self.participant_id, self.capture_id, seq, captured, jpeg)
        self.unstored[seq] = frame
        self.outage.retry(lambda: publish_frame(self.client, self.keys, frame,
                                                self.settings.stream_maxlen))

    def _end(self, offset: float, reason: str) -> None:
        ended = self.started + timedelta(seconds=offset)
        self.ending = [RoomEvent("participant_left", self.session_id, ended,
                                 participant_id=self.participant_id),
                       RoomEvent("session_ended", self.session_id, ended, reason=reason)]
        self._publish_events(self.ending)

    def _publish_events(self, events: list[RoomEvent]) -> None:
        for event in events:
            self.outage.retry(lambda e=event: publish_room_event(self.client, self.keys, e))

    def _paced(self) -> Iterator[tuple[float, object]]:
        """Sampled frames, as fast as possible or, with --realtime, at the video's own pace."""
        clock = time.monotonic()
        for offset, image in sampled_frames(self.request.video, self.settings.sample_fps):
            if self.request.realtime:
                time.sleep(max(0.0, clock + offset - time.monotonic()))
            yield offset, image

    def _wait_until_stored(self, target: int) -> None:
        self._wait_until(lambda: self.stored >= target,
                         lambda: f"stored no frame for {self.request.timeout_s:.0f} s "
                                 f"({self.stored} of {target} stored)")

    def _wait_until_closed(self) -> None:
        """Return once the workers have stored the session's end and all its speech."""
        self._wait_until(lambda: self.closed,
                         lambda: f"did not store the end of the session within "
                                 f"{self.request.timeout_s:.0f} s of every frame")

    def _wait_until(self, done: Callable[[], bool], stuck: Callable[[], str]) -> None:
        """Poll until ``done``; give up when the workers store nothing for ``--timeout``."""
        last_change = time.monotonic()
        while True:
            now = time.monotonic()
            if now - self._polled >= POLL_S or not done():
                self._polled = now
                before = self.stored, self.closed
                self.outage.retry(self._poll, waits_on="PostgreSQL")
                if (self.stored, self.closed) != before or self.outage.recovered():
                    last_change = now
            if done():
                return
            if now - last_change > self.request.timeout_s:
                raise CommandError(f"workers {stuck()}; check that `econsult worker` is running "
                                   "and its log")
            time.sleep(POLL_S)

    def _poll(self) -> None:
        """Count what is stored, and whether the session's end is; if Redis restarted empty,
        publish what it lost again."""
        self._publish_again_if_lost()
        if not self.unstored and not self.ending:
            return
        with self.engine.connect() as conn:
            if self.unstored:
                stored = set(conn.scalars(select(Sample.seq).where(
                    Sample.participant_id == self.participant_id,
                    Sample.capture_id == self.capture_id, Sample.seq >= min(self.unstored))))
                for seq in stored & self.unstored.keys():
                    del self.unstored[seq]
                    self.stored += 1
                    self.bar.update(1)
            if self.ending:
                self.closed = self._closed(conn)

    def _closed(self, conn: Connection) -> bool:
        ended = conn.scalar(select(Session.ended_at).where(Session.id == self.session_id))
        left = conn.scalar(select(Participant.left_at)
                           .where(Participant.id == self.participant_id))
        speech = conn.scalar(select(func.count()).select_from(SpeechSegment)
                             .where(SpeechSegment.participant_id == self.participant_id))
        return ended is not None and left is not None and speech >= len(self.speech)

    def _publish_again_if_lost(self) -> None:
        """Publish the session again, as far as it went, if Redis restarted empty."""
        run_id = self.client.info("server")["run_id"]
        if self._run_id not in (None, run_id):
            tqdm.write(f"econsult analyze: Redis restarted; publishing the session and "
                       f"{len(self.unstored)} frames not yet stored again", file=sys.stderr)
            self._announce()
            for event in self.speech:
                publish_room_event(self.client, self.keys, event)
            for frame in list(self.unstored.values()):
                publish_frame(self.client, self.keys, frame, self.settings.stream_maxlen)
            for event in self.ending:
                publish_room_event(self.client, self.keys, event)
        self._run_id = run_id


def _truncation(recording: Recording, frames: int, offset: float, sample_fps: float
                ) -> str | None:
    """Why the recording looks cut off, if its frames stop well short of its declared length."""
    if recording.duration_s is None or frames == 0:
        return None
    covered = offset + 1 / sample_fps
    if covered >= TRUNCATED_SHARE * recording.duration_s:
        return None
    return (f"{recording.path} stops after {covered:.1f} s of the {recording.duration_s:.1f} s "
            f"its header declares (truncated?): read {frames} frames")


def _require_workers(client: redis.Redis, keys: StreamKeys, outage: Outage) -> None:
    """Return once a worker reads the frames stream. A live worker renews its heartbeat within
    ``HEARTBEAT_TTL_S``, so wait that long for one: workers just started by ``econsult up``, or
    whose heartbeats lapsed while Redis was away, are on their way."""
    deadline = None
    while not outage.retry(lambda: live_workers(client, keys)):
        deadline = deadline or time.monotonic() + HEARTBEAT_TTL_S  # from Redis's first answer
        if time.monotonic() > deadline:
            raise CommandError("no worker is reading the frames stream; start them with "
                               "`econsult up` (or `econsult worker`) and try again")
        time.sleep(POLL_S)


def _say(line: str) -> None:
    tqdm.write(f"econsult analyze: {line}", file=sys.stderr)


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("analyze", help="analyse a recorded consultation")
    parser.add_argument("video", type=Path)
    parser.add_argument("--room", required=True, help="room name the session is filed under")
    parser.add_argument("--participant", default="client", help="name of the person filmed")
    parser.add_argument("--role", default="client", choices=("client", "student", "consultant"))
    parser.add_argument("--consultant", help="consultant who led the session")
    parser.add_argument("--realtime", action="store_true",
                        help="publish at the video's own pace, as a live room would")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds to wait for workers to make progress before giving up")
    parser.add_argument("--no-voice", dest="voice", action="store_false",
                        help="leave the recording's sound unanalysed (by default, when it has "
                             "sound, when the person speaks is measured: never what they say)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    return analyze(AnalyzeRequest(args.video, args.room, args.participant, args.role,
                                  args.consultant, args.realtime, args.timeout, args.voice),
                   settings)
