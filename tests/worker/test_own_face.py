"""Only the participant's own face is analysed: the largest in the middle of their camera at
first, then followed by where it is; anyone else in view is someone else, however faces come
and go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from worker.faces import Face
from worker.own_face import FOLLOW_S, REACQUIRE_S, Sighting, own_face

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
EYES = ((0.0, 0.0), (1.0, 0.0))
WIDTH = 640


def _face(x: int, y: int, size: int) -> Face:
    return Face(x, y, size, size, 0.9, EYES)


def _choose(faces: list[Face], last: Sighting | None, after_s: float = 0.0) -> int | None:
    return own_face(faces, last, T0 + timedelta(seconds=after_s), WIDTH)


PARTICIPANT = _face(220, 140, 200)  # at the camera, in the middle
BYSTANDER = _face(20, 40, 90)  # further back, to the side
SEEN = Sighting.of(PARTICIPANT, T0)


def test_with_nothing_known_the_largest_face_in_the_middle_is_the_participants():
    assert _choose([BYSTANDER, PARTICIPANT], None) == 1
    assert _choose([BYSTANDER, _face(230, 150, 120)], None) == 1
    assert _choose([], None) is None


def test_with_nothing_known_a_face_off_to_the_side_is_someone_elses():
    assert _choose([BYSTANDER], None) is None


def test_a_followed_face_stays_chosen_when_someone_larger_appears_elsewhere():
    leaning_in = _face(400, 100, 260)
    assert _choose([leaning_in, _face(230, 150, 200)], SEEN, 0.5) == 1


def test_while_the_participant_is_out_of_view_nobody_else_is_taken_for_them():
    for after in (0.5, FOLLOW_S + 1, REACQUIRE_S - 1):
        assert _choose([BYSTANDER], SEEN, after) is None


def test_back_in_view_elsewhere_the_participant_is_found_again():
    moved = _face(520, 160, 190)
    assert _choose([BYSTANDER, moved], SEEN, FOLLOW_S + 1) == 1
    assert _choose([BYSTANDER, moved], SEEN, 0.5) is None, (
        "a jump of more than a face's size between two frames is someone else")


def test_after_a_long_absence_the_largest_face_in_the_middle_is_taken_again():
    assert _choose([BYSTANDER], SEEN, REACQUIRE_S + 1) is None
    assert _choose([BYSTANDER, _face(300, 100, 80)], SEEN, REACQUIRE_S + 1) == 1
