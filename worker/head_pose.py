"""Whether a face is turned to the screen, from the six points BlazeFace finds on it.

The points (eyes, nose tip, mouth, the ears' tragions) are fitted to the same points on an
average adult head (millimetres, from the nose tip: x to the person's left, y up, z towards the
camera) with OpenCV's ``solvePnP``, for a camera of about 60 degrees across; the fit's rotation
gives the head's yaw (turning left or right) and pitch (nodding). A face counts as **facing the
screen** while both stay within :data:`FACING_YAW` and :data:`FACING_PITCH` degrees: a webcam
sits on or beside the screen, so someone reading it faces the camera to within that.

Limits: this is head pose, not gaze (eyes can wander while the head stays still); a camera set
far from the screen (a second monitor) makes someone reading the screen look turned away; the
points are coarse on small faces (under ~40 px), so their pose is noisier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

FACING_YAW = 30.0
FACING_PITCH = 25.0
# An average head, in BlazeFace's keypoint order: right eye, left eye, nose tip, mouth centre,
# right ear tragion, left ear tragion ("right" is the person's own).
HEAD_MM = np.array([[-32.0, 35.0, -30.0], [32.0, 35.0, -30.0], [0.0, 0.0, 0.0],
                    [0.0, -32.0, -15.0], [-72.0, 20.0, -95.0], [72.0, 20.0, -95.0]])
# The camera's axes (x right, y down, z away from the camera) for a head facing it: the
# person's left is the camera's right, their up its down, their front its near side.
TO_CAMERA = np.array([1.0, -1.0, -1.0])
FOCAL_PER_WIDTH = 0.87  # a 60-degree horizontal field of view: f = width / (2 tan 30°)


@dataclass(frozen=True)
class HeadPose:
    yaw: float  # degrees; 0 faces the camera, positive turns to the person's left
    pitch: float  # degrees; 0 level, positive looks up

    @property
    def facing_screen(self) -> bool:
        return abs(self.yaw) <= FACING_YAW and abs(self.pitch) <= FACING_PITCH


def head_pose(keypoints: Sequence[tuple[float, float]], frame_width: int, frame_height: int
              ) -> HeadPose | None:
    """The head's pose from BlazeFace's six keypoints in frame pixels; None if the fit fails."""
    if len(keypoints) != len(HEAD_MM):
        return None
    focal = FOCAL_PER_WIDTH * frame_width
    camera = np.array([[focal, 0, frame_width / 2], [0, focal, frame_height / 2], [0, 0, 1]])
    ok, rotation, _ = cv2.solvePnP(HEAD_MM * TO_CAMERA, np.asarray(keypoints, np.float64),
                                   camera, None, flags=cv2.SOLVEPNP_EPNP)
    if not ok:
        return None
    matrix, _ = cv2.Rodrigues(rotation)
    forward = matrix @ np.array([0.0, 0.0, -1.0])  # where the face's front points
    return HeadPose(float(np.degrees(np.arctan2(forward[0], -forward[2]))),
                    float(np.degrees(np.arctan2(-forward[1], -forward[2]))))
