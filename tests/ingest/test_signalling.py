"""Bad messages on the room's WebSocket get an error that says why and harm nobody: the sender
stays in the room and can go on, and the SFU relays nothing it was not asked for."""

from __future__ import annotations

import asyncio
import uuid

import aiohttp
import pytest

from tests.support.accounts import token
from tests.support.faces import PacedFaces, faces_for_load
from tests.support.signalling import RoomSocket


async def _reply(room_socket: RoomSocket, message: object) -> dict:
    """Send ``message``; the first answer that is not news of someone else."""
    if isinstance(message, str):
        await room_socket.ws.send_str(message)
    else:
        await room_socket.ws.send_json(message)
    while (answer := await room_socket.receive())["type"].startswith("peer-"):
        pass
    return answer


@pytest.mark.parametrize(("message", "reason"), [
    ("not json", "Expecting value"),
    ([1, 2], "messages are JSON objects"),
    ({"type": "shout"}, "unknown message type 'shout'"),
    ({"type": "publish", "sdp": "v=0 nonsense"}, "Janus"),
    ({"type": "subscribe", "feed": str(uuid.uuid4())}, "that participant is not in the room"),
    ({"type": "subscribe", "feed": "not an id"}, "badly formed hexadecimal UUID string"),
    ({"type": "subscribed", "feed": str(uuid.uuid4()), "sdp": "v=0"},
     "subscribe to that participant first"),
    ({"type": "end"}, "unknown message type 'end'"),  # a client cannot end the session
])
def test_a_bad_message_is_answered_with_why_and_the_sender_can_go_on(room, ingest_url, message,
                                                                     reason):
    async def scenario() -> tuple[dict, dict]:
        async with aiohttp.ClientSession() as http, RoomSocket(await http.ws_connect(
                f"{ingest_url}/room/{room.room.name}/ws")) as room_socket:
            await room_socket.join(token(room.guests), "Tess", consent=False)
            refusal = await _reply(room_socket, message)
            await room_socket.publish(PacedFaces(faces_for_load(), 5.0))  # an error fails the test
            # Messages are handled in order: this is answered once the video is up in Janus.
            after = await _reply(room_socket, {"type": "shout"})
            return refusal, after

    refusal, after = asyncio.run(scenario())
    assert refusal["type"] == "error" and reason in refusal["message"], refusal
    assert after == {"type": "error", "message": "unknown message type 'shout'"}
