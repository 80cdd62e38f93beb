"""FER+ crowd votes for FER2013's faces (Barsoum et al., 2016; MIT licence): ten annotators per
face, a better training and selection signal than FER2013's single labels, which agree with the
annotators' majority on only 66% of faces.

Beware the prior: the majorities are a third neutral (FER2013's labels: 17%) with far less anger
and fear. A model fitted to the votes as they are leans to neutral and reads real faces worse, so
training divides the prior out (``training/prior.py``) and selection uses balanced accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from contracts.labels import EMOTIONS
from training import data

TRAINING_VOTES = data.FER_DIR / "fer2013_training_ferplus.npz"
PUBLIC_TEST_VOTES = data.FER_DIR / "fer2013_publictest_ferplus.npz"
# FER+'s names for the seven expressions econsult reports; the rest of its columns are
# contempt, unknown (annotators could not tell) and NF (not a face).
_NAMES = {"anger": "angry", "disgust": "disgust", "fear": "fear", "happiness": "happy",
          "neutral": "neutral", "sadness": "sad", "surprise": "surprise"}
NOT_A_FACE = "NF"


@dataclass(frozen=True)
class VotedFaces:
    images: np.ndarray  # (N, 48, 48) uint8
    shares: np.ndarray  # (N, 7): each expression's share of the face's votes, EMOTIONS order
    majority: np.ndarray  # (N,) the expression most annotators chose, -1 where none clearly did
    fer_labels: np.ndarray  # (N,) FER2013's own label
    rows: np.ndarray  # (N,) each face's row in FER2013's file

    def __len__(self) -> int:
        return len(self.majority)

    def take(self, which: np.ndarray | slice) -> VotedFaces:
        """The faces ``which`` selects (a mask, indices in the order wanted, or a slice)."""
        return VotedFaces(self.images[which], self.shares[which], self.majority[which],
                          self.fer_labels[which], self.rows[which])

    def with_majority(self) -> VotedFaces:
        """Only the faces with a clear majority among the seven expressions."""
        return self.take(self.majority >= 0)


def load(faces_path: Path, votes_path: Path) -> VotedFaces:
    """FER2013's faces with their FER+ votes; faces that are no face, or got no vote for any of
    the seven expressions, are left out."""
    faces = data.load(faces_path)
    if not votes_path.is_file():
        raise data.DatasetError(f"{votes_path} does not exist; FER+ votes sit beside FER2013's "
                                "files in ../shared/data/fer2013/")
    votes_file = np.load(votes_path, allow_pickle=False)
    names = [str(name) for name in votes_file["vote_names"]]
    votes = votes_file["votes"].astype(np.float32)
    if len(votes) != len(faces):
        raise data.DatasetError(f"{votes_path} has {len(votes)} rows for {len(faces)} faces in "
                                f"{faces_path}; the votes follow the faces row by row")
    ours = votes[:, [names.index(name) for name in _ferplus_order()]]
    usable = votes_file["matched"] & (ours.sum(1) > 0) & (
        votes[:, names.index(NOT_A_FACE)] < votes.sum(1) / 2)
    shares = ours[usable] / ours[usable].sum(1, keepdims=True)
    return VotedFaces(faces.images[usable], shares, majority_labels(votes[usable], names),
                      faces.labels[usable], np.flatnonzero(usable))


def majority_labels(votes: np.ndarray, names: list[str]) -> np.ndarray:
    """The expression with the most votes over all of FER+'s columns; -1 for ties and for faces
    whose most-voted column is contempt, unknown or not a face."""
    top = votes.max(1, keepdims=True)
    winner = votes.argmax(1)
    tied = (votes == top).sum(1) > 1
    to_ours = np.array([EMOTIONS.index(_NAMES[name]) if name in _NAMES else -1 for name in names])
    return np.where(tied, -1, to_ours[winner])


def balanced_accuracy(truth: np.ndarray, predicted: np.ndarray) -> float:
    """The mean of the per-expression accuracies: leaning to a common expression earns nothing."""
    return float(np.mean([np.mean(predicted[truth == index] == index)
                          for index in range(len(EMOTIONS)) if np.any(truth == index)]))


def _ferplus_order() -> list[str]:
    by_ours = {ours: theirs for theirs, ours in _NAMES.items()}
    return [by_ours[emotion] for emotion in EMOTIONS]
