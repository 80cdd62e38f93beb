"""Entering a room over its WebSocket and admission request: the role comes from the
invitation, never from the browser; no valid invitation, no entry; another site's page is
refused; a room ended by its consultant admits no one."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from contracts.accounts import COOKIE, sign_in
from tests.support.accounts import account_named, token


def test_a_client_invitation_admits_a_client_whatever_the_browser_claims(room, engine,
                                                                           ingest_url):
    consultant = _consultant_cookie(engine, room)

    async def scenario():
        async with aiohttp.ClientSession() as http:
            host = await http.ws_connect(_socket(ingest_url, room), headers=consultant)
            await host.send_json({"type": "join", "consent": False})
            assert (await host.receive_json(timeout=10))["type"] == "joined"
            guest = await http.ws_connect(_socket(ingest_url, room))
            await guest.send_json({"type": "join", "invitation": token(room.guests),
                                   "name": "Mallory", "role": "consultant", "consent": True})
            assert (await guest.receive_json(timeout=10))["type"] == "joined"
            seen = await host.receive_json(timeout=10)
            await guest.close()
            await host.close()
            return seen["peer"]

    peer = asyncio.run(scenario())
    assert (peer["name"], peer["role"], peer["cohost"]) == ("Mallory", "client", False)


@pytest.mark.parametrize("invitation, reason", [
    (None, "only for invited people"), ("forged-token", "not valid")])
def test_a_websocket_join_without_a_valid_invitation_is_refused(room, ingest_url, invitation,
                                                                reason):
    async def scenario():
        async with aiohttp.ClientSession() as http, \
                http.ws_connect(_socket(ingest_url, room)) as ws:
            await ws.send_json({"type": "join", "invitation": invitation, "name": "Eve",
                                "consent": True})
            return await ws.receive_json(timeout=10)

    reply = asyncio.run(scenario())
    assert reply["type"] == "error" and reason in reply["message"]


def test_pages_of_other_sites_cannot_enter_a_room(room, engine, ingest_url):
    elsewhere = {"Origin": "https://elsewhere.example", **_consultant_cookie(engine, room)}

    async def scenario():
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(_socket(ingest_url, room), headers=elsewhere)
            async with http.post(f"{ingest_url}/room/{room.room.name}/admission", json={},
                                 headers=elsewhere) as response:
                return refused.value.status, response.status, await response.json()

    socket_status, status, body = asyncio.run(scenario())
    assert (socket_status, status) == (403, 403)
    assert "another site" in body["error"]


def test_ending_the_session_closes_the_room_to_its_invitations(room, engine, ingest_url):
    async def scenario():
        async with aiohttp.ClientSession() as http:
            host = await http.ws_connect(_socket(ingest_url, room),
                                         headers=_consultant_cookie(engine, room))
            await host.send_json({"type": "join", "consent": False})
            await host.receive_json(timeout=10)
            await host.send_json({"type": "end"})
            assert (await host.receive_json(timeout=10))["type"] == "ended"
            await host.close()
            async with http.post(f"{ingest_url}/room/{room.room.name}/admission",
                                 json={"invitation": token(room.guests)}) as response:
                return response.status, await response.json()

    status, body = asyncio.run(scenario())
    assert status == 403 and "has ended" in body["error"]


def _socket(url: str, room) -> str:
    return f"{url.replace('http', 'ws', 1)}/room/{room.room.name}/ws"


def _consultant_cookie(engine, room) -> dict[str, str]:
    """The Cookie header of the room's consultant, signed in."""
    consultant = account_named(engine, room.room.consultant)
    return {"Cookie": f"{COOKIE}={sign_in(engine, consultant, 1.0)}"}
