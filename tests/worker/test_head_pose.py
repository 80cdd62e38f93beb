"""Whether a face is turned to the screen, read from the six points the detector finds on it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.support.media import LONDON
from worker.faces import FaceDetector
from worker.head_pose import FACING_YAW, FOCAL_PER_WIDTH, HEAD_MM, TO_CAMERA, head_pose


def _seen_from_camera(yaw: float, pitch: float) -> np.ndarray:
    """The average head's six points as a 640x480 camera 60 cm away sees them, turned."""
    focal = FOCAL_PER_WIDTH * 640
    camera = np.array([[focal, 0, 320], [0, focal, 240], [0, 0, 1]])
    turn = (cv2.Rodrigues(np.array([0.0, np.radians(-yaw), 0.0]))[0]
            @ cv2.Rodrigues(np.array([np.radians(-pitch), 0.0, 0.0]))[0])
    points, _ = cv2.projectPoints(HEAD_MM * TO_CAMERA, cv2.Rodrigues(turn)[0],
                                  np.array([0.0, 0.0, 600.0]), camera, None)
    return points[:, 0]


@pytest.mark.parametrize("yaw, pitch, facing", [
    (0, 0, True), (20, -10, True), (-FACING_YAW - 10, 0, False), (45, 0, False), (0, 40, False),
])
def test_the_pose_is_read_back_and_decides_facing_the_screen(yaw, pitch, facing):
    pose = head_pose(_seen_from_camera(yaw, pitch), 640, 480)
    assert (pose.yaw, pose.pitch) == pytest.approx((yaw, pitch), abs=1.0)
    assert pose.facing_screen is facing


def test_people_looking_into_the_camera_face_the_screen():
    detector = FaceDetector()
    photos = sorted(LONDON.glob("*.jpg"))[:40]
    poses = [head_pose(faces[0].keypoints, 320, 320)
             for faces in (detector.detect(cv2.imread(str(p))) for p in photos)]
    assert all(pose.facing_screen for pose in poses)


def test_without_the_six_points_there_is_no_pose():
    assert head_pose([(10.0, 10.0), (20.0, 10.0)], 640, 480) is None
