"""``econsult ingest``: the consult room's web server, from start to stop.

Start: connect to Redis, open the room registry, relay the workers' live updates.
Serve: the room page, its WebSocket, analysis offers, /healthz and /metrics.
Stop: close every analysis connection, end every live room (recorded as interrupted), send
every room event still queued (waiting up to ``STOP_FLUSH_S`` for Redis), disconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from pathlib import Path

import redis.asyncio as aredis
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from contracts.settings import Settings
from ingest.analysis import AnalysisPeers, OfferError
from ingest.feedback import relay_live_updates
from ingest.publisher import StreamPublisher
from ingest.rooms import Rooms
from ingest.signalling import Signalling

STATIC = Path(__file__).resolve().parent / "static"
SETTINGS = web.AppKey("settings", Settings)
STATE = web.AppKey("state", dict)
log = logging.getLogger("econsult.ingest")
STOP_FLUSH_S = 10.0


def create_app(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=64 * 1024)
    app[SETTINGS] = settings
    app.router.add_get("/", lambda _: web.HTTPFound("/room/demo?role=consultant"))
    app.router.add_get("/room/{room}", room_page)
    app.router.add_get("/room/{room}/ws", room_socket)
    app.router.add_post("/room/{room}/analysis", analysis_offer)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_static("/static", STATIC)
    app.on_startup.append(_start)
    app.on_shutdown.append(_stop)
    return app


def run(settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("aioice").setLevel(logging.WARNING)  # one line per ICE candidate pair
    web.run_app(create_app(settings), host=settings.ingest_host, port=settings.ingest_port,
                print=lambda _: log.info("rooms at http://%s:%s/room/NAME", settings.ingest_host,
                                         settings.ingest_port))
    return 0


async def _start(app: web.Application) -> None:
    settings = app[SETTINGS]
    client = aredis.Redis.from_url(settings.redis_url)
    publisher = StreamPublisher(client, settings)
    rooms = Rooms(publisher.room_event, settings.room_capacity)
    publisher.on_restart = rooms.announce_again
    publisher.start()
    peers = AnalysisPeers(settings, publisher)
    app[STATE] = {
        "redis": client, "rooms": rooms, "peers": peers, "publisher": publisher,
        "signalling": Signalling(rooms, peers, settings),
        "tasks": [asyncio.create_task(relay_live_updates(client, publisher.keys, rooms)),
                  asyncio.create_task(rooms.keep_alive())],
    }


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
    for send in farewells:
        await send({"type": "ended", "message": "the service stopped"})
    await state["publisher"].stop(STOP_FLUSH_S)
    await state["redis"].aclose()


async def room_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "room.html")


async def room_socket(request: web.Request) -> web.WebSocketResponse:
    return await request.app[STATE]["signalling"].socket(request)


async def analysis_offer(request: web.Request) -> web.Response:
    """POST {participant, sdp}: the participant's analysis stream; answered with {sdp}."""
    state = request.app[STATE]
    room = state["rooms"].by_name.get(request.match_info["room"])
    if room is None:
        raise _error(web.HTTPNotFound, "there is no live room of that name")
    try:
        body = await request.json()
        member = room.members.get(uuid.UUID(str(body["participant"])))
        sdp = str(body["sdp"])
    except (ValueError, KeyError, TypeError):
        raise _error(web.HTTPBadRequest, "send JSON with 'participant' and 'sdp'") from None
    if member is None or not member.connected:
        raise _error(web.HTTPNotFound, "that participant is not in the room")
    try:
        answer = await state["peers"].answer(room, member, sdp)
    except OfferError as exc:
        raise _error(web.HTTPBadRequest, str(exc)) from None
    except PermissionError as exc:
        raise _error(web.HTTPForbidden, str(exc)) from None
    return web.json_response({"type": "answer", "sdp": answer})


async def healthz(request: web.Request) -> web.Response:
    state = request.app[STATE]
    try:
        await state["redis"].ping()
    except aredis.ConnectionError:
        return web.json_response({"status": "redis unreachable"}, status=503)
    return web.json_response({"status": "ok", "rooms": len(state["rooms"].by_name),
                              "analysis_peers": len(state["peers"])})


async def metrics(request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def _error(kind: type[web.HTTPException], message: str) -> web.HTTPException:
    return kind(text=json.dumps({"error": message}), content_type="application/json")
