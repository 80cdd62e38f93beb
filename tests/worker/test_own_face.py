"""Only the participant's own face is analysed: the largest at first, then followed by where it
is; anyone else in view is someone else, however the faces come and go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from worker.faces import Face
from worker.own_face import FOLLOW_S, REACQUIRE_S, Sighting, own_face

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
EYES = ((0.0, 0.0), (1.0, 0.0))


def _face(x: int, y: int, size: int) -> Face:
    return Face(x, y, size, size, 0.9, EYES)


PARTICIPANT = _face(220, 140, 200)  # at the camera, in the middle
BYSTANDER = _face(20, 40, 90)  # further back, to the side


def test_with_nothing_known_the_largest_face_is_the_participants():
    assert own_face([BYSTANDER, PARTICIPANT], None, T0) == 1
    assert own_face([], None, T0) is None


def test_a_followed_face_stays_chosen_when_someone_larger_appears_elsewhere():
    seen = Sighting.of(PARTICIPANT, T0)
    leaning_in = _face(400, 100, 260)
    assert own_face([leaning_in, _face(230, 150, 200)], seen, T0 + timedelta(seconds=0.5)) == 1


def test_while_the_participant_is_out_of_view_nobody_else_is_taken_for_them():
    seen = Sighting.of(PARTICIPANT, T0)
    for after in (0.5, FOLLOW_S + 1, REACQUIRE_S - 1):
        assert own_face([BYSTANDER], seen, T0 + timedelta(seconds=after)) is None


def test_back_in_view_elsewhere_the_participant_is_found_again():
    seen = Sighting.of(PARTICIPANT, T0)
    moved = _face(520, 160, 190)
    assert own_face([BYSTANDER, moved], seen, T0 + timedelta(seconds=FOLLOW_S + 1)) == 1
    assert own_face([BYSTANDER, moved], seen, T0 + timedelta(seconds=0.5)) is None, (
        "a jump of more than a face's size between two frames is someone else")


def test_after_a_long_absence_the_largest_face_is_taken_again():
    seen = Sighting.of(PARTICIPANT, T0)
    assert own_face([BYSTANDER], seen, T0 + timedelta(seconds=REACQUIRE_S + 1)) == 0
