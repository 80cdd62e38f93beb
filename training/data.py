"""FER2013 in its npz layout (keys ``images``, ``labels``, ``classes``), remapped to EMOTIONS."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from contracts.labels import EMOTIONS

FER_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013"
TRAINING = FER_DIR / "fer2013_training.npz"
PUBLIC_TEST = FER_DIR / "fer2013_publictest.npz"


class DatasetError(ValueError):
    """A data file is not in the FER2013 npz layout."""


@dataclass(frozen=True)
class FaceSet:
    images: np.ndarray  # (N, 48, 48) uint8
    labels: np.ndarray  # (N,) index into EMOTIONS

    def __len__(self) -> int:
        return len(self.labels)


def load(path: Path) -> FaceSet:
    """Load an npz with ``images`` (N, H, W) uint8, ``labels`` (N,) and ``classes`` (names)."""
    if not path.is_file():
        raise DatasetError(f"{path} does not exist")
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise DatasetError(f"{path} is not a readable .npz file ({exc})") from None
    missing = {"images", "labels", "classes"} - set(data.files)
    if missing:
        raise DatasetError(f"{path} lacks {', '.join(sorted(missing))}; expected FER2013's layout")
    images, labels, classes = data["images"], data["labels"], [str(c) for c in data["classes"]]
    if images.ndim != 3 or images.dtype != np.uint8 or len(images) != len(labels):
        raise DatasetError(f"{path}: images must be (N, H, W) uint8 with one label each")
    unknown = set(classes) - set(EMOTIONS)
    if unknown:
        raise DatasetError(f"{path} has classes econsult does not know: {sorted(unknown)}")
    if len(labels) and labels.max() >= len(classes):
        raise DatasetError(f"{path} has a label index beyond its {len(classes)} classes")
    remap = np.array([EMOTIONS.index(name) for name in classes])
    return FaceSet(images, remap[labels.astype(np.int64)])
