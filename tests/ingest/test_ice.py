"""A participant's ICE servers: STUN passed through, and TURN credentials that a real coturn
(``use-auth-secret``) accepts while they last and refuses once expired or made with another
secret."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aioice import stun
from aioice.turn import TurnTransport, create_turn_endpoint

from contracts.settings import Settings
from ingest.ice import ice_servers
from tests.support.turn import OwnTurn

DEADLINE_S = 5.0


@pytest.fixture(scope="module")
def turn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnTurn]:
    relay = OwnTurn(tmp_path_factory.mktemp("turn")).start()
    yield relay
    relay.stop()


def _settings(turn: OwnTurn, **changes: Any) -> Settings:
    return Settings(**{"turn_urls": turn.url, "turn_secret": turn.secret, **changes})


def _turn_entry(servers: list[dict[str, Any]]) -> dict[str, Any]:
    (entry,) = [server for server in servers if "username" in server]
    return entry


class _Datagrams(asyncio.DatagramProtocol):
    """What one endpoint receives, in order, and when it is closed."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()
        self.closed = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.put_nowait((data, addr))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    async def next(self) -> tuple[bytes, tuple[str, int]]:
        return await asyncio.wait_for(self.received.get(), DEADLINE_S)


@asynccontextmanager
async def _relayed(entry: dict[str, Any]) -> AsyncIterator[tuple[TurnTransport, _Datagrams]]:
    """A TURN allocation made as a browser would, from one RTCIceServer entry; deleted after."""
    host, port = entry["urls"][0].removeprefix("turn:").split("?")[0].rsplit(":", 1)
    transport, protocol = await asyncio.wait_for(
        create_turn_endpoint(_Datagrams, (host, int(port)), entry["username"],
                             entry["credential"]), DEADLINE_S)
    try:
        yield transport, protocol
    finally:
        transport.close()
        await asyncio.wait_for(protocol.closed, DEADLINE_S)


def _refusal(entry: dict[str, Any]) -> int:
    """The STUN error code coturn answers an allocation made with ``entry``."""
    async def allocate() -> int:
        with pytest.raises(stun.TransactionFailed) as refused:
            async with _relayed(entry):
                pass
        return refused.value.response.error_code

    return asyncio.run(allocate())


def test_credentials_let_a_participant_allocate_a_relay_address(turn: OwnTurn):
    entry = _turn_entry(ice_servers(_settings(turn), "participant-1"))

    async def allocate() -> tuple[str, int]:
        async with _relayed(entry) as (transport, _):
            return transport.get_extra_info("sockname")

    ip, port = asyncio.run(allocate())
    assert ip == turn.ip
    assert port in turn.relay_ports


def test_the_relay_carries_datagrams_both_ways_between_a_participant_and_a_peer(turn: OwnTurn):
    entry = _turn_entry(ice_servers(_settings(turn), "participant-2"))

    async def exchange() -> tuple[bytes, bytes]:
        loop = asyncio.get_running_loop()
        peer_transport, peer = await loop.create_datagram_endpoint(
            _Datagrams, local_addr=(turn.ip, 0))
        try:
            async with _relayed(entry) as (transport, participant):
                transport.sendto(b"hello from behind the NAT",
                                 peer_transport.get_extra_info("sockname"))
                heard, relay_address = await peer.next()
                assert relay_address == transport.get_extra_info("sockname")
                peer_transport.sendto(b"hello back", relay_address)
                answer, _ = await participant.next()
                return heard, answer
        finally:
            peer_transport.close()

    assert asyncio.run(exchange()) == (b"hello from behind the NAT", b"hello back")


def test_credentials_made_with_another_secret_are_refused(turn: OwnTurn):
    entry = _turn_entry(ice_servers(_settings(turn, turn_secret="not-the-relays-secret"), "p-3"))
    assert _refusal(entry) == 401


def test_expired_credentials_are_refused(turn: OwnTurn):
    settings = _settings(turn, turn_credential_s=600)
    an_hour_ago = time.time() - 3600
    assert _refusal(_turn_entry(ice_servers(settings, "p-4", now=an_hour_ago))) == 401


def test_credentials_name_their_expiry_and_the_participant():
    settings = Settings(turn_urls="turn:relay.example:3478?transport=udp", turn_secret="s3cret",
                        turn_credential_s=3600)
    entry = _turn_entry(ice_servers(settings, "p-5", now=1_700_000_000.7))
    assert entry["urls"] == ["turn:relay.example:3478?transport=udp"]
    assert entry["username"] == "1700003600:p-5"
    # base64(HMAC-SHA1("s3cret", "1700003600:p-5")), computed with openssl as coturn does.
    assert entry["credential"] == "TYVtTEmTWIpTb3XgvKGdnTmpesE="


def test_without_turn_urls_there_is_no_turn_entry_and_stun_urls_pass_through():
    settings = Settings(ice_servers="stun:stun.example:3478, stun:stun2.example:19302",
                        turn_secret="unused")
    assert ice_servers(settings, "p-6") == [
        {"urls": ["stun:stun.example:3478", "stun:stun2.example:19302"]}]
    assert ice_servers(Settings(), "p-6") == []


def test_stun_and_turn_are_given_together_as_two_entries():
    settings = Settings(ice_servers="stun:stun.example:3478",
                        turn_urls="turn:a.example:3478?transport=udp, turn:a.example:443"
                                  "?transport=tcp", turn_secret="s3cret")
    stun_entry, turn_entry = ice_servers(settings, "p-7")
    assert stun_entry == {"urls": ["stun:stun.example:3478"]}
    assert turn_entry["urls"] == ["turn:a.example:3478?transport=udp",
                                  "turn:a.example:443?transport=tcp"]


def test_turn_urls_without_a_secret_say_which_setting_to_give():
    with pytest.raises(ValueError, match=r"ECONSULT_TURN_SECRET.*static-auth-secret"):
        ice_servers(Settings(turn_urls="turn:relay.example:3478"), "p-8")
