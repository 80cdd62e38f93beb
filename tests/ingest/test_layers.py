"""Which temporal layers of the small simulcast layer ingest asks the SFU for: the fewest whose
frames still cover the sampling rate."""

from __future__ import annotations

import pytest

from ingest.layers import (
    ENCODINGS,
    SMALL,
    SMALL_LAYER,
    SMALL_LAYER_FPS,
    TEMPORAL_LAYERS,
    temporal_layer_for,
)


@pytest.mark.parametrize(("sample_fps", "layer"), [(0.5, 0), (1.0, 0), (1.5, 1), (2.0, 1),
                                                   (2.5, 2), (4.0, 2), (10.0, 2)])
def test_the_lowest_temporal_layer_that_covers_the_sampling_rate_is_chosen(sample_fps, layer):
    assert temporal_layer_for(sample_fps) == layer


def test_the_small_layer_pages_publish_is_coded_in_the_temporal_layers_ingest_counts_on():
    assert SMALL["maxFramerate"] == SMALL_LAYER_FPS
    assert SMALL["scalabilityMode"] == f"L1T{TEMPORAL_LAYERS}"
    assert ENCODINGS.index(SMALL) == len(ENCODINGS) - 1 - SMALL_LAYER  # Janus counts up
