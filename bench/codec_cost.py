"""What carrying the call through the server would cost, against what analysis costs.

aiortc's relay encodes the call once per watcher; an analysis stream costs one decode, and a
JPEG of each sample. They are timed here with aiortc's own VP8 codecs on camera-like frames
(faces with sensor noise), the JPEG as ingest encodes it (from the decoded planes) and, for
comparison, through a BGR image with OpenCV.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from statistics import median

import cv2
import numpy as np
from aiortc.codecs.vpx import Vp8Decoder, Vp8Encoder
from aiortc.jitterbuffer import JitterFrame
from av import CodecContext, VideoFrame

from contracts.settings import Settings
from ingest.encoding import encode_video_frame
from ingest.layers import SMALL_LAYER_FPS
from training import data
from training.fer_clips import framed_face

FRAMES = 90
CALL = ((640, 480), 15)
ANALYSIS = ((320, 240), SMALL_LAYER_FPS)  # the small layer ingest analyses
JPEG_ROUNDS = 10


def codec_cost(settings: Settings) -> dict[str, float]:
    (call_size, call_fps), (analysis_size, analysis_fps) = CALL, ANALYSIS
    encode_ms = _encode_ms(_camera_frames(call_size))
    decode_ms, decoded = _decoded(_camera_frames(analysis_size))
    planes_ms, bgr_ms = _jpeg_ms(decoded, settings.frame_max_width, settings.jpeg_quality)
    return {
        # "ms" in the names: bench/run.py prints such figures to the microsecond.
        "VP8 encode ms/frame, 640x480": encode_ms,
        "VP8 decode ms/frame, 320x240": decode_ms,
        "JPEG of a decoded 320x240 frame, from its planes, ms (median)": planes_ms,
        "JPEG of a decoded 320x240 frame, through BGR with OpenCV, ms (median)": bgr_ms,
        "server % of a core per relayed watcher (640x480, 15 fps)": encode_ms * call_fps / 10,
        f"server % of a core per analysis stream decode (320x240, {analysis_fps} fps)":
            decode_ms * analysis_fps / 10,
    }


def _camera_frames(size: tuple[int, int]) -> list[VideoFrame]:
    rng = np.random.default_rng(0)
    faces = data.load(data.PUBLIC_TEST).images[:FRAMES // 15 + 1]
    frames = []
    for index in range(FRAMES):
        image = cv2.resize(framed_face(faces[index // 15]), size).astype(np.int16)
        noisy = np.clip(image + rng.normal(0, 3, image.shape), 0, 255).astype(np.uint8)
        frame = VideoFrame.from_ndarray(noisy, format="bgr24")
        frame.pts = index * 6000  # 90 kHz clock at 15 fps
        frames.append(frame)
    return frames


def _encode_ms(frames: list[VideoFrame]) -> float:
    encoder = Vp8Encoder()
    started = time.perf_counter()
    for frame in frames:
        encoder.encode(frame)
    return 1000 * (time.perf_counter() - started) / len(frames)


def _decoded(frames: list[VideoFrame]) -> tuple[float, list[VideoFrame]]:
    context = CodecContext.create("libvpx", "w")
    context.width, context.height = frames[0].width, frames[0].height
    context.pix_fmt, context.bit_rate = "yuv420p", 300_000
    packets = [bytes(p) for frame in frames for p in context.encode(frame.reformat(
        format="yuv420p"))]
    decoder = Vp8Decoder()
    started = time.perf_counter()
    decoded = [frame for index, packet in enumerate(packets)
               for frame in decoder.decode(JitterFrame(packet, index * 18_000))]
    return 1000 * (time.perf_counter() - started) / len(packets), decoded


def _jpeg_ms(frames: list[VideoFrame], max_width: int, quality: int) -> tuple[float, float]:
    """The median CPU ms of a frame's JPEG as ingest encodes it and through BGR, each frame
    encoded both ways in turn, so that a busy moment of the host weighs on both alike."""
    cv2.setNumThreads(1)  # as in ingest (ingest/server.py)
    times: dict[Callable, list[float]] = {encode_video_frame: [], _via_bgr: []}
    for _ in range(JPEG_ROUNDS):
        for frame in frames:
            for encode, taken in times.items():
                started = time.thread_time()
                encode(frame, max_width, quality)
                taken.append(1000 * (time.thread_time() - started))
    return median(times[encode_video_frame]), median(times[_via_bgr])


def _via_bgr(frame: VideoFrame, max_width: int, quality: int) -> bytes:
    bgr = cv2.cvtColor(frame.to_ndarray(format="yuv420p"), cv2.COLOR_YUV2BGR_I420)
    return cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()
