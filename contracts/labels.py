"""The seven emotions econsult reports, in the order used by every table, message and chart."""

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")

# One colour per emotion wherever emotions are drawn: the room, the dashboard, the reports.
COLOURS: dict[str, str] = {
    "angry": "#d1495b", "disgust": "#8f5aa8", "fear": "#edae49", "happy": "#66a182",
    "neutral": "#8d99ae", "sad": "#00798c", "surprise": "#f08a4b",
}
