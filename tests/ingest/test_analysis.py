"""Ingest's own connections for analysis take from Janus only what analysis needs."""

from __future__ import annotations

from ingest.analysis import SEND_TIME_EXTENSION, without_send_times

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
