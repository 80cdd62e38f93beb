"""``econsult ingest``: the consult room's web server, from start to stop.

Start: connect to Redis and PostgreSQL (rooms, invitations, sign-ins) and get ready to use the
SFU (Janus) that carries the calls, clearing the rooms a crashed ingest left there; open the
room registry, relay the workers' live updates and tell consultants who speaks, say in Redis
which rooms this ingest holds.
Serve: the room page, who may enter it, its WebSocket, /healthz and /metrics.
Stop: close every analysis connection, end every live room (recorded as interrupted) and its
SFU room, send every room event still queued (waiting up to ``STOP_FLUSH_S`` for Redis),
disconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import html
import json
import logging
from pathlib import Path
from urllib.parse import quote

import cv2
import redis.asyncio as aredis
import uvloop
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from contracts.alert import AlertRule
from contracts.database import engine_for
from contracts.invitations import NotAdmitted
from contracts.reading_accuracy import consent_text, limits_text
from contracts.redis_connection import connect_async
from contracts.settings import Settings
from contracts.tls import server_context
from ingest.admission import Gate, Unavailable
from ingest.analysis import AnalysisPeers
from ingest.feedback import relay_live_updates
from ingest.placement import Placement, check_address
from ingest.publisher import StreamPublisher
from ingest.rooms import Rooms
from ingest.sfu import Sfu
from ingest.signalling import Signalling
from ingest.talk import Talk

STATIC = Path(__file__).resolve().parent / "static"
SETTINGS = web.AppKey("settings", Settings)
STATE = web.AppKey("state", dict)
log = logging.getLogger("econsult.ingest")
STOP_FLUSH_S = 5.0  # cli/up.py waits FRONT_GRACE_S (7 s) before it kills


def create_app(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=64 * 1024)
    app[SETTINGS] = settings
    app.router.add_get("/", lambda _: web.HTTPFound(settings.public_dashboard_url + "/rooms"))
    app.router.add_get("/room/{room}", room_page)
    app.router.add_post("/room/{room}/admission", admission)
    app.router.add_get("/room/{room}/ws", room_socket)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_static("/static", STATIC)
    app.on_startup.append(_start)
    app.on_shutdown.append(_stop)
    return app


def run(settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("aioice").setLevel(logging.WARNING)  # one line per ICE candidate pair
    # Samples are made ready for their JPEG (ingest/encoding.py) on the event loop, one small
    # frame at a time: OpenCV's threads would split each one, at up to twice the CPU of doing it
    # on this one (`econsult bench class`); a class's many streams are the parallelism.
    cv2.setNumThreads(1)
    tls = server_context(settings)  # a missing or mismatched file: exit 2 before listening
    check_address(settings.ingest_address)
    scheme = "https" if tls else "http"
    # libuv's event loop: asyncio's own runs in Python for every packet, Redis command and timer
    # of a class's connections, some 8% of ingest's time (`econsult bench class`).
    web.run_app(create_app(settings), host=settings.ingest_host, port=settings.ingest_port,
                ssl_context=tls, loop=uvloop.new_event_loop(),
                print=lambda _: log.info("rooms at %s://%s:%s/room/NAME (public address %s)",
                                         scheme, settings.ingest_host, settings.ingest_port,
                                         settings.public_room_url))
    return 0


async def _start(app: web.Application) -> None:
    settings = app[SETTINGS]
    client = connect_async(settings.redis_url)
    publisher = StreamPublisher(client, settings)
    rooms = Rooms(publisher.room_event, settings.room_capacity, AlertRule.of(settings))
    publisher.on_restart = rooms.announce_again
    publisher.start()
    talk = Talk()
    peers = AnalysisPeers(settings, publisher, talk)
    gate = Gate(engine_for(settings.database_url), settings)
    sfu = Sfu(settings, peers)
    placement = Placement(client, publisher.keys, settings.ingest_address)
    app[STATE] = {
        "redis": client, "rooms": rooms, "peers": peers, "publisher": publisher, "gate": gate,
        "sfu": sfu, "placement": placement,
        "signalling": Signalling(rooms, gate, settings, sfu, placement),
        "tasks": [asyncio.create_task(relay_live_updates(client, publisher.keys, rooms)),
                  asyncio.create_task(rooms.keep_alive()),
                  asyncio.create_task(talk.keep_telling(rooms)),
                  asyncio.create_task(placement.keep(lambda: list(rooms.by_name))),
                  asyncio.create_task(sfu.sweep(placement.held))],
    }
    # What is loaded by now lasts as long as the process: the collector's full passes, which a
    # class's stream of short-lived packets and frames sets off, need not walk it each time.
    gc.freeze()


async def _stop(app: web.Application) -> None:
    state = app[STATE]
    # Before anything is awaited: a room whose connections close meanwhile would otherwise
    # end as if everyone had left.
    rooms = list(state["rooms"].by_name.values())
    farewells = [member.send for room in rooms for member in room.present()]
    for room in rooms:
        state["rooms"].end(room, reason="interrupted")
    for task in state["tasks"]:
        task.cancel()
    for task in state["tasks"]:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await state["peers"].close_all()
    for room in rooms:
        await state["sfu"].end(room)
        await state["placement"].release(room.name)
    await state["sfu"].close()
    for send in farewells:
        await send({"type": "ended", "message": "the service stopped"})
    await state["publisher"].stop(STOP_FLUSH_S)
    await state["redis"].aclose()
    state["gate"].engine.dispose()


@functools.cache
def _room_html(raw_days: float, summary_days: float) -> str:
    """The room page, with the readings' measured limits (contracts.reading_accuracy) and how
    long what is measured is kept (contracts.retention)."""
    kept = (f"The estimates are kept {raw_days:g} days; a summary of the session (who took "
            f"part, its scores) {summary_days:g} days. Then they are deleted.")
    return ((STATIC / "room.html").read_text()
            .replace("<!-- contracts.reading_accuracy.consent_text() -->",
                     html.escape(consent_text()))
            .replace("<!-- contracts.reading_accuracy.limits_text() -->",
                     html.escape(limits_text()))
            .replace("<!-- contracts.retention: how long it is kept -->", html.escape(kept)))


async def room_page(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    return web.Response(text=_room_html(settings.retention_days,
                                        settings.summary_retention_days),
                        content_type="text/html")


async def admission(request: web.Request) -> web.Response:
    """POST {invitation?}: the room, the role and the name the person would join with, and the
    WebSocket to join at (on the ingest holding the room), or why they may not enter (and, when
    signing in would help, where to sign in): 403, or 503 while that cannot be checked."""
    gate: Gate = request.app[STATE]["gate"]
    try:
        body = await request.json()
        invitation = body.get("invitation") if isinstance(body, dict) else None
    except ValueError:
        raise _error(web.HTTPBadRequest, "send JSON, e.g. {\"invitation\": \"…\"}") from None
    try:
        entry = await gate.admit(request, invitation)
    except NotAdmitted as exc:
        sign_in = gate.sign_in_url(request.match_info["room"]) if exc.sign_in else None
        return web.json_response({"error": str(exc), "sign_in": sign_in},
                                 status=503 if isinstance(exc, Unavailable) else 403)
    room = entry.room
    address = await request.app[STATE]["placement"].locate(room.name)
    return web.json_response({"room": {"name": room.name, "kind": room.kind,
                                       "consultant": room.consultant},
                              "role": entry.role, "name": entry.name,
                              "socket": f"{address}/room/{quote(room.name)}/ws"})


async def room_socket(request: web.Request) -> web.WebSocketResponse:
    return await request.app[STATE]["signalling"].socket(request)


async def healthz(request: web.Request) -> web.Response:
    state = request.app[STATE]
    try:
        await state["redis"].ping()
    except (aredis.ConnectionError, aredis.TimeoutError):
        return web.json_response({"status": "redis unreachable"}, status=503)
    return web.json_response({"status": "ok", "rooms": len(state["rooms"].by_name),
                              "analysis_peers": len(state["peers"])})


async def metrics(request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def _error(kind: type[web.HTTPException], message: str) -> web.HTTPException:
    return kind(text=json.dumps({"error": message}), content_type="application/json")
