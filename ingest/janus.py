"""Ingest's client of Janus, the SFU that carries the calls, over Janus's HTTP API (aiohttp); the
VideoRoom requests made over it are in ingest/videoroom.py.

Only ingest talks to Janus: it creates the rooms (with the VideoRoom admin key), carries every
browser's offers and answers, and subscribes to the small layer of each consenting participant
for analysis. Janus's model: a *session* holds *handles*, each attached to a plugin (VideoRoom)
and carrying at most one PeerConnection, a publisher's or a subscription. A request is a POST;
Janus answers a synchronous one (create a room) at once, and an asynchronous one (anything with
SDP) with an ack, the result coming later as an event, matched by its transaction, on the
session's long poll (a GET Janus holds up to 30 s). Events nobody asked for (``webrtcup``,
``hangup``, a publisher leaving) go to their handle's queue. A session silent for Janus's
``session_timeout`` (60 s, deploy/janus/janus.jcfg) is destroyed with all its handles, so an open
session sends a keepalive every ``KEEPALIVE_S``. The keepalive is also how ingest finds that Janus
stopped answering without closing anything (frozen, or cut off): it is then said in the log, with
how long Janus has been silent, until Janus answers again.

The long poll holds one connection of the aiohttp session's pool for as long as the Janus session
is open: keep one Janus session per room, with as many handles as it needs, and a pool larger than
the rooms (aiohttp's default is 100 connections). Offers and answers are complete (aiortc does not
trickle ICE, and Janus puts its own candidates in its SDP).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiortc import RTCSessionDescription

log = logging.getLogger("econsult.ingest")

JSON = dict[str, Any]
VIDEOROOM = "janus.plugin.videoroom"
# Janus refuses (403) every request whose Origin does not start with this: browsers always name
# their page's origin ("https://…") and cannot send this one (deploy/janus/, the HTTP transport).
API_ORIGIN = "econsult-ingest"
# Janus destroys a session silent for 60 s; a Janus that stops answering is said within
# KEEPALIVE_S + KEEPALIVE_TIMEOUT_S (10 s).
KEEPALIVE_S = 5.0
KEEPALIVE_TIMEOUT_S = 5.0
REQUEST_TIMEOUT_S = 10.0
REPLY_TIMEOUT_S = 20.0  # for an asynchronous reply (Janus gathers its candidates first)
POLL_TIMEOUT_S = 40.0  # Janus answers a long poll within 30 s, with a keepalive if nothing
POLL_EVENTS = 16  # events one long poll may bring: a busy room's events come in few requests
POLL_RETRY_S = 1.0
LOST_AFTER_S = 60.0  # long polls failing this long: Janus has destroyed the session anyway
EVENTS_KEPT = 100  # per handle: older unread events are dropped rather than piling up

# Error codes econsult acts on (Janus's own are 4xx from 403 to 490, VideoRoom's 421 to 499).
SESSION_NOT_FOUND = 458  # Janus: the session timed out, was destroyed, or Janus restarted
MISSING_ELEMENT = 429  # VideoRoom: e.g. a "create" without the admin key
NO_SUCH_ROOM = 426
ROOM_EXISTS = 427  # VideoRoom: creating a room again (after ingest restarted, say)
NO_SUCH_FEED = 428  # VideoRoom: subscribing to someone not publishing (yet)
UNAUTHORIZED = 433  # VideoRoom: a wrong admin key or room secret


class JanusError(Exception):
    """Janus refused a request (``code`` and ``reason`` are Janus's or the plugin's, e.g. 433
    for a wrong admin key), or gave no usable answer (``code`` is None)."""

    def __init__(self, request: str, code: int | None, reason: str) -> None:
        self.request, self.code, self.reason = request, code, reason
        super().__init__(f"Janus refused {request!r}: {reason} (error {code})" if code is not None
                         else f"Janus {request!r}: {reason}")


@dataclass(frozen=True)
class Reply:
    """A plugin's answer to a request: its data and, for SDP negotiations, Janus's offer or
    answer."""

    data: JSON
    jsep: RTCSessionDescription | None


class JanusSession:
    """One Janus session, open from ``open`` until ``close`` (or until Janus drops it)."""

    def __init__(self, http: aiohttp.ClientSession, url: str, session_id: int) -> None:
        self.url = f"{url.rstrip('/')}/{session_id}"
        self.id = session_id
        self._http = http
        self._handles: dict[int, Handle] = {}
        self._pending: dict[str, asyncio.Future[JSON]] = {}
        self.ended: JanusError | None = None
        # Called if Janus drops the session (it restarted, or timed the session out).
        self.on_lost: Callable[[JanusError], None] | None = None
        self._tasks = [asyncio.create_task(self._poll()), asyncio.create_task(self._keepalive())]

    @classmethod
    async def open(cls, http: aiohttp.ClientSession, url: str) -> JanusSession:
        """Create a session on the Janus whose API is at ``url`` (``http://host:port/janus``)."""
        answer = await _exchange(http, "POST", url, "create", {"janus": "create"})
        return cls(http, url, answer["data"]["id"])

    async def __aenter__(self) -> JanusSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def attach(self, plugin: str = VIDEOROOM) -> Handle:
        """A new handle on ``plugin``: one per PeerConnection (publisher or subscription)."""
        answer = await self._post(self.url, "attach", {"janus": "attach", "plugin": plugin})
        handle = Handle(self, answer["data"]["id"])
        self._handles[handle.id] = handle
        return handle

    async def close(self) -> None:
        """Destroy the session: Janus hangs up every PeerConnection of its handles."""
        if self.ended is None:
            self._end(JanusError("session", None, "closed"), lost=False)
            try:
                await _exchange(self._http, "POST", self.url, "destroy", {"janus": "destroy"})
            except JanusError as error:  # already gone (timed out, Janus restarted): fine
                log.info("Janus session %s: %s", self.id, error)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _post(self, url: str, request: str, message: JSON,
                    timeout_s: float = REQUEST_TIMEOUT_S) -> JSON:
        if self.ended is not None:
            raise self.ended
        return await _exchange(self._http, "POST", url, request, message, timeout_s)

    def _end(self, reason: JanusError, lost: bool = True) -> None:
        """The session is over: every waiting request and event reader fails with ``reason``."""
        if self.ended is not None:
            return
        self.ended = reason
        for future in self._pending.values():
            if not future.done():
                future.set_exception(reason)
        for handle in self._handles.values():
            handle._end()
        if lost and self.on_lost is not None:
            self.on_lost(reason)

    async def _keepalive(self) -> None:
        answered, silent = time.monotonic(), False
        while self.ended is None:
            await asyncio.sleep(KEEPALIVE_S)
            try:
                await self._post(self.url, "keepalive", {"janus": "keepalive"},
                                 KEEPALIVE_TIMEOUT_S)
            except JanusError as error:
                if error.code is not None:  # Janus answered: it no longer has the session
                    self._end(error)
                    return
                # The poll decides when the session is lost; meanwhile, say what is awaited.
                log.warning("Janus has not answered for %.0f s (session %s: %s); calls wait for "
                            "it", time.monotonic() - answered, self.id, error.reason)
                silent = True
                continue
            if silent:
                log.warning("Janus answers again (session %s)", self.id)
            answered, silent = time.monotonic(), False

    async def _poll(self) -> None:
        failing_since: float | None = None
        while self.ended is None:
            try:
                events = await self._events()
            except JanusError as error:
                now = time.monotonic()
                failing_since = failing_since or now
                if error.code is not None or now - failing_since > LOST_AFTER_S:
                    log.warning("Janus session %s is lost: %s", self.id, error)
                    self._end(error)
                    return
                await asyncio.sleep(POLL_RETRY_S)  # a pause between tries, not a wait on Janus
                continue
            failing_since = None
            for event in events:
                self._dispatch(event)

    async def _events(self) -> list[JSON]:
        timeout = aiohttp.ClientTimeout(total=POLL_TIMEOUT_S)
        try:
            async with self._http.get(self.url, params={"maxev": str(POLL_EVENTS)},
                                      headers={"Origin": API_ORIGIN}, timeout=timeout) as response:
                if response.status == 404:  # Janus answers so for a session it does not have
                    raise JanusError("poll", SESSION_NOT_FOUND, "Janus no longer has this session")
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise JanusError("poll", None, f"no answer from {self.url}: {error!r}") from None
        return answer if isinstance(answer, list) else [answer]

    def _dispatch(self, event: JSON) -> None:
        kind = event.get("janus")
        if kind == "keepalive":
            return
        if kind == "timeout":
            self._end(JanusError("session", None, "Janus timed it out (no keepalive in time)"))
            return
        future = self._pending.get(event.get("transaction", ""))
        if future is not None and kind in ("event", "error") and not future.done():
            future.set_result(event)
            return
        handle = self._handles.get(event.get("sender", 0))
        if handle is not None:
            handle._deliver(event)


class Handle:
    """A handle attached to a plugin in a session: requests to the plugin, and its events."""

    def __init__(self, session: JanusSession, handle_id: int) -> None:
        self.session = session
        self.id = handle_id
        self.url = f"{session.url}/{handle_id}"
        self._events: asyncio.Queue[JSON | None] = asyncio.Queue(EVENTS_KEPT)

    async def send(self, body: JSON, jsep: RTCSessionDescription | None = None,
                   timeout_s: float = REPLY_TIMEOUT_S) -> Reply:
        """Send the plugin a request (with our offer or answer, complete) and return its reply,
        whether Janus answers at once or, after an ack, with an event."""
        request = str(body.get("request", "message"))
        message: JSON = {"janus": "message", "body": body}
        if jsep is not None:
            # trickle false: every candidate is in the SDP, Janus need not wait for more.
            message["jsep"] = {"type": jsep.type, "sdp": jsep.sdp, "trickle": False}
        transaction = _transaction()
        # Registered before the POST: the event may come on the long poll before the ack.
        reply = self.session._pending[transaction] = asyncio.get_running_loop().create_future()
        try:
            answer = await self.session._post(self.url, request,
                                              message | {"transaction": transaction})
            if answer.get("janus") == "ack":
                try:
                    async with asyncio.timeout(timeout_s):
                        answer = await reply
                except TimeoutError:
                    raise JanusError(request, None, f"no reply within {timeout_s:.0f} s") from None
            return _reply(request, answer)
        finally:
            self.session._pending.pop(transaction, None)
            if not reply.done():
                reply.cancel()
            elif not reply.cancelled():
                reply.exception()  # seen: a session that ended meanwhile left its reason here

    async def event(self, *kinds: str, timeout_s: float = REPLY_TIMEOUT_S) -> JSON:
        """The next event Janus sent this handle unasked whose ``janus`` is one of ``kinds``
        (any, when none are given); the events before it are dropped."""
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    event = await self._events.get()
                    if event is None:
                        self._events.put_nowait(None)  # for the next reader too
                        raise self.session.ended or JanusError("event", None, "session ended")
                    if not kinds or event.get("janus") in kinds:
                        return event
        except TimeoutError:
            raise TimeoutError(f"no {' or '.join(kinds) or 'event'} from Janus for handle "
                               f"{self.id} within {timeout_s:.0f} s") from None

    async def detach(self) -> None:
        """Detach from the plugin: Janus hangs up the handle's PeerConnection, if any."""
        await self.session._post(self.url, "detach", {"janus": "detach"})
        self.session._handles.pop(self.id, None)

    def _deliver(self, event: JSON) -> None:
        if self._events.full():
            self._events.get_nowait()
        self._events.put_nowait(event)

    def _end(self) -> None:
        if self._events.full():
            self._events.get_nowait()
        self._events.put_nowait(None)


async def _exchange(http: aiohttp.ClientSession, method: str, url: str, request: str,
                    message: JSON, timeout_s: float = REQUEST_TIMEOUT_S) -> JSON:
    """One request to Janus's API; Janus's own errors (``"janus": "error"``) raise."""
    message = {"transaction": _transaction()} | message
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    try:
        async with http.request(method, url, json=message, headers={"Origin": API_ORIGIN},
                                timeout=timeout) as response:
            if response.status != 200:
                raise JanusError(request, None, f"HTTP {response.status} from {url}")
            answer = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        raise JanusError(request, None, f"no answer from {url}: {error!r}") from None
    if answer.get("janus") == "error":
        raise JanusError(request, answer["error"]["code"], answer["error"]["reason"])
    return answer


def _reply(request: str, answer: JSON) -> Reply:
    if answer.get("janus") == "error":
        raise JanusError(request, answer["error"]["code"], answer["error"]["reason"])
    data = answer.get("plugindata", {}).get("data", {})
    if "error_code" in data:
        raise JanusError(request, data["error_code"], data.get("error", ""))
    jsep = answer.get("jsep")
    return Reply(data, RTCSessionDescription(sdp=jsep["sdp"], type=jsep["type"]) if jsep else None)


def _transaction() -> str:
    return secrets.token_hex(8)
