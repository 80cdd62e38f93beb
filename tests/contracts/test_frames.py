"""Frames on the stream: what ingest writes is exactly what workers read, and anything else is
refused with a reason."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import numpy as np
import pytest

from contracts.frames import Frame
from contracts.stream_fields import StreamFormatError
from ingest.encoding import encode_frame
from tests.support.streams import as_read

NOW = datetime(2026, 11, 21, 9, 30, 15, 123000, tzinfo=UTC)
JPEG = encode_frame(np.zeros((48, 64, 3), np.uint8), 640, 80)


def _frame(seq: int = 1) -> Frame:
    return Frame(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), seq, NOW, JPEG)


def test_a_frame_survives_the_round_trip_with_millisecond_capture_time():
    frame = _frame(42)
    assert Frame.decode(as_read(frame.encode())) == frame


@pytest.mark.parametrize("change, reason", [
    ({"v": "1"}, "contract version"),
    ({"seq": "x"}, "'seq' is not an integer"),
    ({"seq": str(2**31)}, "'seq' is 2147483648, outside 0..2147483647"),
    ({"seq": "-1"}, "outside 0.."),
    ({"seq": "9" * 400}, "'seq' is not an integer"),
    ({"participant": "bob"}, "'participant' is not a UUID"),
    ({"capture": "x" * 10_000}, "'capture' is not a UUID"),
    ({"captured_at_ms": str(10**20)}, "'captured_at_ms' is 100000000000000000000, outside"),
    ({"captured_at_ms": str(-10**15)}, "outside"),
    ({"jpeg": b"GIF89a"}, "does not hold a JPEG"),
    ({"jpeg": b"\xff\xd8 not really"}, "does not hold a JPEG"),
    ({"jpeg": JPEG + bytes(1 << 20)}, "more than 1048576"),
    ({"jpeg": encode_frame(np.zeros((8, 5000, 3), np.uint8), 5000, 10)},
     "is a 5000x8 image; frames are 1 to 4096 pixels a side"),
])
def test_a_malformed_frame_is_refused_with_the_reason(change, reason):
    with pytest.raises(StreamFormatError, match=reason):
        Frame.decode(as_read(_frame().encode() | change))


def test_a_frame_without_its_image_is_refused():
    fields = _frame().encode()
    del fields["jpeg"]
    with pytest.raises(StreamFormatError, match="'jpeg' is missing"):
        Frame.decode(as_read(fields))
