"""A compact CNN for 48x48 grayscale faces (~310k parameters).

One full convolution at 48x48, then separable convolutions: a second full convolution at full
resolution cost 40% more time per training step on 2 CPU cores. Downsampling uses pooling
rather than strided 1x1 convolutions, which crash TensorFlow 2.21's oneDNN kernels during
training (see ../shared/notes/models-and-faces.md); without them oneDNN trains twice as fast.
"""

from __future__ import annotations

import keras
from keras import layers

from contracts.labels import EMOTIONS
from worker.emotion_model import INPUT_SIZE

# The served model's stages. Half as many channels (cnn48-v5) served 1.5 points lower; these
# cost 0.57 ms a face in 8-bit integers on CPUs with 8-bit dot products, 2.2 ms on AVX2 only.
WIDTHS = (48, 96, 192, 384)


def build(widths: tuple[int, ...] = WIDTHS, dropout: float = 0.3) -> keras.Model:
    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, 1), name="face")
    x = layers.Rescaling(1 / 127.5, offset=-1.0)(inputs)
    x = _augment(x)
    for index, width in enumerate(widths):
        convs = [layers.Conv2D] if index == 0 else [layers.SeparableConv2D] * 2
        for conv in convs:
            x = conv(width, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
        if index < len(widths) - 1:
            x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(len(EMOTIONS), activation="softmax", name="emotion")(x)
    return keras.Model(inputs, outputs, name="emotion_cnn")


def _augment(x: keras.KerasTensor) -> keras.KerasTensor:
    """Active in training only: live faces are mirrored and framed off-centre.

    Adding rotation, zoom and random erasing (cnn48-v3: 75 more epochs from cnn48-v2) lowered
    PublicTest from 64.2% to 63.9%: a network this small has no capacity to spare for them.
    """
    x = layers.RandomFlip("horizontal")(x)
    return layers.RandomTranslation(0.1, 0.1, fill_mode="nearest")(x)
