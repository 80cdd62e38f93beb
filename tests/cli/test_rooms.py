"""`econsult user add` makes consultants and managers; `econsult room` sets up a room and
prints its links, makes new ones, withdraws invitations and closes the room, and says plainly
what is wrong when it cannot."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from contracts.invitations import NotAdmitted, admit

PASSWORD = "a long enough password"


def _econsult(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def consultant(env) -> str:
    name = f"cli-{uuid.uuid4().hex[:6]}"
    added = _econsult(env, "user", "add", name, "--role", "consultant", "--password-stdin",
                      stdin=PASSWORD)
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == f"consultant {name} can now sign in to the dashboard"
    return name


def test_a_room_is_set_up_with_links_that_admit_its_guests(env, consultant, engine, settings):
    room = f"cli-room-{uuid.uuid4().hex[:6]}"
    made = _econsult(env, "room", "create", room, "--consultant", consultant, "--kind", "class")
    assert made.returncode == 0, made.stderr
    links = dict(line.strip().split(": ", 1) for line in made.stdout.splitlines()[1:])
    assert links[f"{consultant} (signed in)"] == f"{settings.public_room_url}/room/{room}"
    entry = admit(engine, room, links["students"].split("#invitation=")[1], None)
    assert (entry.room.consultant, entry.role) == (consultant, "student")


def test_withdrawn_invitations_and_a_closed_room_admit_no_one(env, consultant, engine):
    room = f"cli-room-{uuid.uuid4().hex[:6]}"
    first = _econsult(env, "room", "create", room, "--consultant", consultant).stdout
    withdrawn = _econsult(env, "room", "withdraw", room)
    assert withdrawn.stdout.strip() == f"2 invitations to {room} withdrawn"
    with pytest.raises(NotAdmitted, match="withdrawn"):
        admit(engine, room, first.split("client: ")[1].split("#invitation=")[1].split()[0], None)
    fresh = _econsult(env, "room", "links", room).stdout
    token = fresh.split("client: ")[1].split("#invitation=")[1].split()[0]
    assert admit(engine, room, token, None).role == "client"
    assert _econsult(env, "room", "close", room).returncode == 0
    with pytest.raises(NotAdmitted, match="has ended"):
        admit(engine, room, token, None)


@pytest.mark.parametrize("args, message", [
    (("room", "create", "r1", "--consultant", "nobody-here"), "there is no user named"),
    (("room", "create", "a room", "--consultant", "{consultant}"), "a room name is 1 to 100"),
    (("room", "close", "never-set-up"), "there is no open room named"),
    (("user", "add", "x", "--role", "boss", "--password-stdin"), "invalid choice: 'boss'"),
])
def test_mistakes_get_one_clear_line(env, consultant, args, message):
    done = _econsult(env, *(a.format(consultant=consultant) for a in args), stdin=PASSWORD)
    assert done.returncode == 2
    assert message in done.stderr


def test_only_consultants_hold_rooms(env):
    manager = f"cli-manager-{uuid.uuid4().hex[:6]}"
    _econsult(env, "user", "add", manager, "--role", "manager", "--password-stdin",
              stdin=PASSWORD)
    made = _econsult(env, "room", "create", "r2", "--consultant", manager)
    assert made.returncode == 2
    assert "only consultants hold rooms" in made.stderr
