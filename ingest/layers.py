"""The simulcast layers every page publishes its camera in (room.js takes them from the room's
``joined``), and which of them, down to which temporal layer, the SFU relays to ingest.

The small layer serves a class's thumbnails and the analysis. It runs at 4 frames a second:
ingest and a teacher's browser decode every frame they are sent (``econsult bench class``:
their cost per student grows with the frame rate). Its bitrate gives each frame as many bits as
200 kbit/s gave each of 10 a second: faces as sharp as before. It is coded in three temporal
layers (L1T3: every 4th frame in the base layer, every 2nd in the base and the middle one), so
that Janus can relay to ingest only the layers the sampling needs, without any browser sending
more: at the 2 frames a second analysis samples, the two lower ones, whose every frame is
analysed (ingest/sampler.py takes frames that come about as often as it samples, a little
unevenly, all).
"""

from __future__ import annotations

SMALL_LAYER, LARGE_LAYER = 0, 1  # Janus's substreams, smallest first
SMALL_LAYER_FPS = 4
TEMPORAL_LAYERS = 3  # of the small layer: scalability mode L1T3
# As the page's RTCRtpEncodingParameters.
SMALL: dict[str, object] = {"rid": "l", "scaleResolutionDownBy": 2, "maxBitrate": 80_000,
                            "maxFramerate": SMALL_LAYER_FPS,
                            "scalabilityMode": f"L1T{TEMPORAL_LAYERS}"}
LARGE: dict[str, object] = {"rid": "h", "maxBitrate": 900_000}
ENCODINGS = [LARGE, SMALL]  # the large first: Janus numbers them from the small
# What the room's ``joined`` tells the page.
FOR_THE_PAGE = {"encodings": ENCODINGS, "small": SMALL_LAYER, "large": LARGE_LAYER}


def temporal_layer_for(sample_fps: float) -> int:
    """The lowest temporal layer of the small layer (0: the base) whose frames, with those of
    the layers below it, come at least ``sample_fps`` times a second; the top one when none
    does. Each layer up doubles the rate."""
    for layer in range(TEMPORAL_LAYERS):
        if SMALL_LAYER_FPS / 2 ** (TEMPORAL_LAYERS - 1 - layer) >= sample_fps:
            return layer
    return TEMPORAL_LAYERS - 1
