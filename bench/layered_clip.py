"""What a browser's small simulcast layer looks like to Janus, made by a pure-Python publisher:
VP8 in three temporal layers (L1T3, as ingest/layers.py asks of browsers), each packet naming its
layer in its VP8 payload descriptor, in a stream the offer declares a simulcast layer. Janus thins
a subscription to fewer temporal layers only in such a stream: without it, ingest would be sent
every frame and the class bench would not measure what a class of browsers costs.

The clip is encoded once, before the class (``make_clip``); each student's aiortc sender only
packetizes it (``MediaPlayer(decode=False)``), through :func:`layered_packetizer`.
"""

from __future__ import annotations

import contextlib
import fractions
import itertools
from collections.abc import Iterator
from pathlib import Path

import aiortc.rtcrtpsender
import av
import numpy as np
from aiortc.codecs.vpx import PACKET_MAX, Vp8Encoder, VpxPayloadDescriptor
from av.packet import Packet

from ingest.layers import SMALL, SMALL_LAYER_FPS, TEMPORAL_LAYERS
from tests.support.faces import ANALYSIS_SIZE, faces_for_load

CLIP_FPS = SMALL_LAYER_FPS
CLIP_BITRATE = SMALL["maxBitrate"]
# Each frame's temporal layer in turn (libvpx's and browsers' L1T3 pattern), and whether it
# refers to the base layer only (layer sync, which tells a browser's decoder what it needs).
PATTERN = ((0, 0), (2, 1), (1, 1), (2, 0))
# A keyframe every 4 s, on the base layer. A browser sends one only when asked (a new
# subscriber, a loss); a publisher reading a file cannot answer Janus's requests for one, so a
# new subscriber waits for the next. Every 1.6 s, keyframes were 60% of the clip's bytes, as no
# browser's small layer is, and all of them reach ingest (every 4 s: a fifth).
KEYFRAME_S = 4
KEYFRAME_EVERY = KEYFRAME_S * CLIP_FPS  # frames: a whole number of PATTERNs, 4 long
# Each layer's bitrate with those below it, in kbit/s: two fifths, three fifths, the whole.
LAYER_KBITS = ",".join(str(CLIP_BITRATE * fifths // 5000) for fifths in (2, 3, 5))
# libvpx's three-layer structure (ts_layering_mode=3): each layer refers only to the layers
# below it. Error-resilient, as browsers code temporal layers: no frame depends on the entropy
# state a dropped one left, so what Janus relays decodes exactly as the whole stream does.
OPTIONS = {"deadline": "realtime", "cpu-used": "8", "error-resilient": "default",
           "ts-parameters": f"ts_number_layers={TEMPORAL_LAYERS}:ts_target_bitrate={LAYER_KBITS}:"
                            f"ts_rate_decimator=4,2,1:ts_periodicity={len(PATTERN)}:"
                            f"ts_layer_id={','.join(str(layer) for layer, _ in PATTERN)}:"
                            "ts_layering_mode=3"}


def make_clip(path: Path, seconds: float) -> Path:
    """FER faces (one a second, with a camera's sensor noise) as layered VP8 in an IVF file,
    ``seconds`` long: MediaPlayer loses its pacing when it loops, so the clip outlasts the
    class."""
    faces, rng = faces_for_load(), np.random.default_rng(0)
    with av.open(str(path), "w", format="ivf") as container:
        stream = container.add_stream("libvpx", rate=CLIP_FPS)
        stream.width, stream.height = ANALYSIS_SIZE
        stream.pix_fmt, stream.bit_rate, stream.gop_size = "yuv420p", CLIP_BITRATE, KEYFRAME_EVERY
        stream.codec_context.options = OPTIONS
        for index in range(round(seconds * CLIP_FPS)):
            face = faces[index // CLIP_FPS % len(faces)]
            noise = rng.standard_normal(face.shape, dtype=np.float32) * 3
            frame = av.VideoFrame.from_ndarray(np.clip(face + noise, 0, 255).astype(np.uint8),
                                               format="bgr24")
            frame.pts, frame.time_base = index, fractions.Fraction(1, CLIP_FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


class LayeredPacketizer(Vp8Encoder):
    """Packetizes the clip's frames, in order from its first, with each one's temporal layer
    (and the count of base-layer frames, TL0PICIDX) in every packet's payload descriptor, as
    browsers do: aiortc's own VP8 packetizer gives the picture id only."""

    def __init__(self) -> None:
        super().__init__()
        self._layers = itertools.cycle(PATTERN)
        self._base_frames = -1

    def pack(self, packet: Packet) -> tuple[list[bytes], int]:
        _, timestamp = super().pack(packet)  # the timestamp, and the picture id moved on
        layer, sync = next(self._layers)
        self._base_frames = (self._base_frames + (layer == 0)) % 256
        descriptor = VpxPayloadDescriptor(partition_start=1, partition_id=0,
                                          picture_id=(self.picture_id - 1) % (1 << 15),
                                          tl0picidx=self._base_frames, tid=(layer, sync))
        buffer, size, payloads = bytes(packet), PACKET_MAX - len(bytes(descriptor)), []
        for start in range(0, len(buffer), size):
            payloads.append(bytes(descriptor) + buffer[start:start + size])
            descriptor.partition_start = 0  # the same length: only the first packet starts it
        return payloads, timestamp


@contextlib.contextmanager
def layered_packetizer() -> Iterator[None]:
    """Within it, this process's aiortc senders of VP8 packetize with :class:`LayeredPacketizer`
    (aiortc picks its packetizer per sender, with no way to pass one in)."""
    chosen = aiortc.rtcrtpsender.get_encoder

    def packetizer(codec: aiortc.RTCRtpCodecParameters) -> object:
        return LayeredPacketizer() if codec.mimeType.lower() == "video/vp8" else chosen(codec)

    aiortc.rtcrtpsender.get_encoder = packetizer
    try:
        yield
    finally:
        aiortc.rtcrtpsender.get_encoder = chosen


def as_simulcast(offer: str) -> str:
    """``offer`` with its video declared the smallest layer of a simulcast (an SSRC group whose
    other layers never come), as Janus needs it to relay fewer temporal layers of it."""
    video = declared = False
    out = []
    for line in offer.splitlines():
        if line.startswith("m="):
            video = line.startswith("m=video")
        if video and not declared and line.startswith("a=ssrc:"):  # the video's own SSRC
            ssrc = int(line[len("a=ssrc:"):].split(" ", 1)[0])
            out.append(f"a=ssrc-group:SIM {ssrc} {ssrc ^ 1} {ssrc ^ 2}")
            declared = True
        out.append(line)
    return "\r\n".join(out) + "\r\n"
