"""The confusion matrix as a picture for the model card, drawn with OpenCV (no plotting stack)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from contracts.labels import EMOTIONS

CELL, LEFT, TOP = 84, 110, 110
FONT = cv2.FONT_HERSHEY_SIMPLEX


def write_confusion_png(matrix: np.ndarray, path: Path, title: str) -> None:
    """Rows (true emotion) normalised to shares; each cell shows the share and the count."""
    n = len(EMOTIONS)
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    image = np.full((TOP + n * CELL + 50, LEFT + n * CELL + 20, 3), 255, np.uint8)
    cv2.putText(image, title, (10, 30), FONT, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(image, "predicted", (LEFT + n * CELL // 2 - 40, 55), FONT, 0.5, (80, 80, 80), 1,
                cv2.LINE_AA)
    for i, emotion in enumerate(EMOTIONS):
        cv2.putText(image, emotion, (LEFT + i * CELL + 8, TOP - 12), FONT, 0.45, (0, 0, 0), 1,
                    cv2.LINE_AA)
        cv2.putText(image, emotion, (10, TOP + i * CELL + CELL // 2 + 5), FONT, 0.45,
                    (0, 0, 0), 1, cv2.LINE_AA)
        for j in range(n):
            _cell(image, i, j, shares[i, j], int(matrix[i, j]))
    cv2.putText(image, "rows: true emotion; cells: share of the row (count)",
                (10, TOP + n * CELL + 30), FONT, 0.45, (80, 80, 80), 1, cv2.LINE_AA)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), image)


def _cell(image: np.ndarray, row: int, column: int, share: float, count: int) -> None:
    x, y = LEFT + column * CELL, TOP + row * CELL
    shade = int(255 - 200 * share)
    colour = (255, shade, shade) if row != column else (shade, 255 - int(80 * share), shade)
    cv2.rectangle(image, (x, y), (x + CELL - 2, y + CELL - 2), colour, -1)
    ink = (255, 255, 255) if share > 0.6 else (0, 0, 0)
    cv2.putText(image, f"{share:.0%}", (x + 18, y + 38), FONT, 0.55, ink, 1, cv2.LINE_AA)
    cv2.putText(image, f"({count})", (x + 18, y + 60), FONT, 0.4, ink, 1, cv2.LINE_AA)
