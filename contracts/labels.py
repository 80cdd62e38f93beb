"""The seven emotions econsult reports, in the order used by every table, message and chart."""

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
