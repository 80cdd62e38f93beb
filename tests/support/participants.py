"""Participants that join a room and stream faces for analysis from a thread of their own (the
pure-Python client of ``econsult bench room``), while a test breaks things around them."""

from __future__ import annotations

import asyncio
import threading

from bench.room_load import faces_for_load, participant
from bench.rooms import token
from contracts.invitations import RoomLinks

FPS = 5.0


class StreamingParticipant:
    """A consenting student invited to ``room`` until :meth:`leave`."""

    def __init__(self, url: str, room: RoomLinks, name: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(url, room, name), daemon=True)
        self._thread.start()

    def leave(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        if self._error is not None:
            raise self._error

    def _run(self, url: str, room: RoomLinks, name: str) -> None:
        try:
            self._loop.run_until_complete(participant(
                url, room.room.name, token(room.guests), name, faces_for_load(), FPS,
                self._stop))
        except BaseException as exc:  # handed to the test in leave()
            self._error = exc
        finally:
            self._loop.close()
