"""A compact CNN for 48x48 grayscale faces (~490k parameters).

One full convolution at 48x48, then stages of two 3x3 convolutions with max pooling between:
full convolutions at 24x24 and 12x12, separable ones at 6x6. Full convolutions in every stage
(cnn48vgg-v3) served no better and cost 1.3 times as much: at 6x6 they held three quarters of
the parameters and a third of the multiply-adds. A second full convolution at 48x48 cost 40%
more time, per training step on 2 CPU cores and per served face. Downsampling uses pooling
rather than strided 1x1 convolutions, which crash TensorFlow 2.21's oneDNN kernels during
training (see ../shared/notes/models-and-faces.md); without them oneDNN trains twice as fast.
"""

from __future__ import annotations

import keras
from keras import layers

from contracts.emotion_model import INPUT_SIZE
from contracts.labels import EMOTIONS

# The served model's stages. Separable convolutions throughout (cnn48x1.5-v2, stages of 48-384)
# served 1.4 points lower at 0.7 times the cost.
WIDTHS = (32, 64, 128, 384)
# Stages from this index on use separable convolutions.
SEPARABLE_FROM = 3


def build(widths: tuple[int, ...] = WIDTHS, dropout: float = 0.3) -> keras.Model:
    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, 1), name="face")
    x = layers.Rescaling(1 / 127.5, offset=-1.0)(inputs)
    x = _augment(x)
    for index, width in enumerate(widths):
        conv = layers.SeparableConv2D if index >= SEPARABLE_FROM else layers.Conv2D
        for _ in range(1 if index == 0 else 2):
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
