"""Ingest's own connections for analysis take from Janus only what analysis needs, and one
that ends on its own is said lost there and then."""

from __future__ import annotations

import asyncio
import dataclasses

import redis.asyncio as aredis
from aiortc import RTCPeerConnection, RTCSessionDescription

from ingest.analysis import SEND_TIME_EXTENSION, AnalysisPeers, without_send_times
from ingest.publisher import StreamPublisher
from ingest.talk import Talk
from tests.support.faces import PacedFaces, faces_for_load
from tests.support.members import lone_student

# The video section of an offer Janus makes for a subscription, as it sends it.
OFFER = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=VideoRoom\r\nt=0 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 127.0.0.1\r\na=sendonly\r\na=mid:v0\r\n"
    "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    f"a=extmap:3 {SEND_TIME_EXTENSION}\r\n"
    "a=extmap:4 urn:3gpp:video-orientation\r\n"
)


def test_ingest_declines_the_send_time_stamps_janus_offers():
    """Without them its WebRTC stack estimates no bandwidth and sends no RTCP for it: a link
    carrying one small layer needs neither."""
    kept = without_send_times(OFFER)
    assert SEND_TIME_EXTENSION not in kept
    assert kept == OFFER.replace(f"a=extmap:3 {SEND_TIME_EXTENSION}\r\n", "")


def test_an_analysis_connection_the_sfu_hangs_up_is_said_lost_at_once(settings):
    """The SFU closing ingest's analysis connection ends that analysis there and then (ingest
    subscribes again), not once the track has been silent for ``track_silence_s``."""
    patient = dataclasses.replace(settings, track_silence_s=600.0)

    async def scenario() -> bool:
        client = aredis.Redis.from_url(patient.redis_url)
        peers = AnalysisPeers(patient, StreamPublisher(client, patient), Talk())
        room, rita = lone_student(patient, "Rita")
        sfu = RTCPeerConnection()  # a WebRTC peer offering Rita's video, as Janus does
        sfu.addTrack(PacedFaces(faces_for_load(), fps=5))
        await sfu.setLocalDescription(await sfu.createOffer())
        lost, up = asyncio.Event(), asyncio.Event()
        sfu.on("connectionstatechange",
               lambda: up.set() if sfu.connectionState == "connected" else None)

        async def said_lost() -> None:
            lost.set()

        answer = await peers.answer(room, rita, "face", sfu.localDescription.sdp, said_lost)
        await sfu.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        async with asyncio.timeout(30):
            await up.wait()
        await sfu.close()
        async with asyncio.timeout(30):
            await lost.wait()
        analysing = peers.analysing(rita.id, "face")
        await peers.close_all()
        await client.aclose()
        return analysing

    assert asyncio.run(scenario()) is False
