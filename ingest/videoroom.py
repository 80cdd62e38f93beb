"""The requests of Janus's VideoRoom plugin that econsult makes, over a handle of ingest's Janus
client (ingest/janus.py): rooms (one per econsult session, created and destroyed only with the
admin key), publishing, subscribing to one feed (a simulcast layer of it) and leaving."""

from __future__ import annotations

from aiortc import RTCSessionDescription

from ingest.janus import JSON, Handle, JanusError, Reply


async def create_room(handle: Handle, room: str, *, admin_key: str, publishers: int,
                      description: str = "") -> None:
    """Create the VideoRoom of one econsult session (``room`` is its id). VP8, because Janus
    relays the simulcast layers of VP8 (and H.264) publishers and lets each subscriber choose
    one; nothing else is needed per room for simulcast. Not recorded, not listed, and the admin
    key is also the room's secret: only econsult edits or destroys it."""
    await handle.send({"request": "create", "room": room, "admin_key": admin_key,
                       "secret": admin_key, "publishers": publishers, "description": description,
                       "videocodec": "vp8", "audiocodec": "opus", "is_private": True,
                       "permanent": False, "record": False, "lock_record": True})


async def list_rooms(handle: Handle, *, admin_key: str) -> dict[str, str]:
    """Every room Janus holds (private ones too: the admin key lists them), by name, with its
    description (econsult's room name)."""
    reply = await handle.send({"request": "list", "admin_key": admin_key})
    return {str(room["room"]): room.get("description", "") for room in reply.data["list"]}


async def destroy_room(handle: Handle, room: str, *, admin_key: str) -> None:
    """Destroy a room: Janus hangs up everyone still in it."""
    await handle.send({"request": "destroy", "room": room, "secret": admin_key,
                       "permanent": False})


async def publish(handle: Handle, room: str, participant: str, offer: RTCSessionDescription,
                  display: str = "") -> RTCSessionDescription:
    """Join ``room`` as ``participant`` (econsult's id, which becomes the feed's id) and publish
    what ``offer`` sends, in one request; returns Janus's answer."""
    reply = await handle.send({"request": "joinandconfigure", "ptype": "publisher", "room": room,
                               "id": participant, "display": display}, jsep=offer)
    return _sdp("joinandconfigure", reply)


async def subscribe(handle: Handle, room: str, feed: str, substream: int | None = None,
                    mid: str | None = None, temporal: int | None = None
                    ) -> RTCSessionDescription:
    """Subscribe to the publisher ``feed`` (only its stream ``mid`` when given, e.g. its video;
    optionally one simulcast layer, 0 the smallest, and of it only the temporal layers up to
    ``temporal``, 0 the base); returns Janus's offer, to answer with ``start``."""
    stream: JSON = {"feed": feed}
    if mid is not None:
        stream["mid"] = mid
    if substream is not None:
        stream["substream"] = substream
    if temporal is not None:
        stream["temporal"] = temporal
    reply = await handle.send({"request": "join", "ptype": "subscriber", "room": room,
                               "streams": [stream]})
    return _sdp("join", reply)


async def start(handle: Handle, answer: RTCSessionDescription) -> None:
    """Answer a subscription's offer: Janus starts relaying once ICE and DTLS are up."""
    await handle.send({"request": "start"}, jsep=answer)


async def leave(handle: Handle) -> None:
    """Leave the room: a publisher stops publishing, a subscription ends (Janus hangs up)."""
    await handle.send({"request": "leave"})


def _sdp(request: str, reply: Reply) -> RTCSessionDescription:
    if reply.jsep is None:
        raise JanusError(request, None, f"Janus sent no SDP with {reply.data}")
    return reply.jsep
