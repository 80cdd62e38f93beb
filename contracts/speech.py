"""Who spoke when, and the measures of a conversation read from it: one definition in Python
(the room's live view and its hints) and in SQL (reports, history, the analysts' views).

Everything starts from *speech segments*: a participant spoke from ``start`` to ``end`` (the
voice activity detector's output, ingest/voice_activity.py; never what they said). From them:

- **Talk time** and **talk share**: a person's seconds of speech, and their share of everyone's
  (0-100; two people speaking at once both count).
- **Backchannel**: an utterance shorter than :data:`BACKCHANNEL_S` ("mm-hm", "yes"). It counts
  as talk time but takes no turn and interrupts nobody.
- **Turn**: a run of one person's utterances (backchannels aside) not broken by someone else
  starting an utterance; it lasts from its first start to its last end. The **longest
  monologue** is a person's longest turn.
- **Response pause**: from the end of one person's turn to the start of the next person's turn
  (0 when the next starts before the first ends).
- **Interruption**: someone starts an utterance (not a backchannel) while another person has been
  speaking for at least :data:`MID_UTTERANCE_S` in an utterance that has not ended.
  **Spoke before first interrupted**: a person's talk time up to the first interruption of them.
- **Silence**: between a session's first and last speech, the time nobody analysed was speaking.

Only people who agreed to voice analysis have segments: someone not analysed is not silent, and
their speech counts nowhere.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

BACKCHANNEL_S = 1.0
MID_UTTERANCE_S = 1.0
# The live view's recent window, and what its hints look for.
RECENT_S = 300.0
HINT_WINDOW_S = 180.0
DOMINANT_SHARE = 70.0  # a consultant above this share of the last few minutes' talk
DOMINANT_MIN_TALK_S = 60.0  # … once there was this much talk in them
CUT_OFF_SHOWN_S = 30.0  # a client cut off this recently
QUIET_S = 120.0  # a client has not spoken for this long, while others have


@dataclass(frozen=True, order=True)
class Segment:
    start: float  # seconds, on any clock shared by the conversation's segments
    end: float
    participant: Hashable

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def takes_the_floor(self) -> bool:
        return self.seconds >= BACKCHANNEL_S


@dataclass(frozen=True)
class Turn:
    participant: Hashable
    start: float
    end: float


@dataclass(frozen=True)
class Interruption:
    by: Hashable
    of: Hashable
    at: float


@dataclass(frozen=True)
class Measures:
    """One person's measures over a conversation."""

    talk_s: float
    share: float | None  # None when nobody spoke
    turns: int
    longest_monologue_s: float
    interruptions_made: int
    times_interrupted: int
    spoke_before_interrupted_s: float | None  # None when never interrupted
    median_response_pause_s: float | None  # before their turns; None without one


def _ordered(segments: Iterable[Segment]) -> list[Segment]:
    # Ties on start go by participant, as the SQL orders them (by UUID, the same order).
    return sorted(segments, key=lambda s: (s.start, s.participant))


def talk_time(segments: Iterable[Segment], since: float | None = None,
              until: float | None = None) -> dict[Hashable, float]:
    """Seconds of speech per participant, within [since, until] when given."""
    low, high = float("-inf") if since is None else since, float("inf") if until is None \
        else until
    totals: dict[Hashable, float] = defaultdict(float)
    for segment in segments:
        totals[segment.participant] += max(0.0, min(segment.end, high) - max(segment.start, low))
    return dict(totals)


def talk_share(segments: Iterable[Segment], since: float | None = None,
               until: float | None = None) -> dict[Hashable, float]:
    """Each participant's share (0-100) of everyone's talk time; empty when nobody spoke."""
    times = talk_time(segments, since, until)
    total = sum(times.values())
    return {who: 100.0 * seconds / total for who, seconds in times.items()} if total else {}


def turns(segments: Iterable[Segment]) -> list[Turn]:
    """The conversation's turns, in order."""
    result: list[Turn] = []
    for segment in _ordered(s for s in segments if s.takes_the_floor):
        if result and result[-1].participant == segment.participant:
            last = result[-1]
            result[-1] = Turn(last.participant, last.start, max(last.end, segment.end))
        else:
            result.append(Turn(segment.participant, segment.start, segment.end))
    return result


def response_pauses(segments: Iterable[Segment]) -> list[tuple[Hashable, float]]:
    """(who answered, after how many seconds) for every change of speaker."""
    in_order = turns(segments)
    return [(turn.participant, max(0.0, turn.start - before.end))
            for before, turn in pairwise(in_order)]


def interruptions(segments: Iterable[Segment]) -> list[Interruption]:
    """Every interruption, in order; someone starting over two people interrupts both."""
    found: dict[Interruption, None] = {}
    running: list[Segment] = []  # begun, and perhaps not ended, as each next one starts
    for segment in _ordered(segments):
        running = [other for other in running if other.end > segment.start]
        if segment.takes_the_floor:
            for other in running:
                if (other.participant != segment.participant
                        and other.start + MID_UTTERANCE_S <= segment.start):
                    found[Interruption(segment.participant, other.participant,
                                       segment.start)] = None
        running.append(segment)
    return list(found)


def silence(segments: Iterable[Segment]) -> tuple[float, float]:
    """(seconds of silence, the longest silence) between the first and last speech."""
    total = longest = 0.0
    reached: float | None = None
    for segment in sorted(segments):
        if reached is not None and segment.start > reached:
            gap = segment.start - reached
            total, longest = total + gap, max(longest, gap)
        reached = segment.end if reached is None else max(reached, segment.end)
    return total, longest


def measures(segments: Sequence[Segment]) -> dict[Hashable, Measures]:
    """Every measure of each participant who spoke."""
    times, shares = talk_time(segments), talk_share(segments)
    in_turns = turns(segments)
    cut = interruptions(segments)
    pauses: dict[Hashable, list[float]] = defaultdict(list)
    for who, pause in response_pauses(segments):
        pauses[who].append(pause)
    result = {}
    for who, talk_s in times.items():
        own_turns = [t.end - t.start for t in in_turns if t.participant == who]
        first_cut = min((i.at for i in cut if i.of == who), default=None)
        before = (None if first_cut is None
                  else talk_time((s for s in segments if s.participant == who),
                                 until=first_cut).get(who, 0.0))
        result[who] = Measures(
            talk_s=talk_s, share=shares.get(who), turns=len(own_turns),
            longest_monologue_s=max(own_turns, default=0.0),
            interruptions_made=sum(i.by == who for i in cut),
            times_interrupted=sum(i.of == who for i in cut),
            spoke_before_interrupted_s=before,
            median_response_pause_s=statistics.median(pauses[who]) if pauses[who] else None)
    return result


def hints(segments: Sequence[Segment], roles: dict[Hashable, str], names: dict[Hashable, str],
          now: float) -> list[str]:
    """What the consultant is told, discreetly, about the last few minutes of the conversation
    (``roles`` and ``names`` of everyone analysed; ``now`` on the segments' clock)."""
    said = []
    recent = talk_time(segments, since=now - HINT_WINDOW_S, until=now)
    consultants = {who for who, role in roles.items() if role == "consultant"}
    total = sum(recent.values())
    own = sum(recent.get(who, 0.0) for who in consultants)
    # Only with someone else's voice analysed is the consultant's share of the talk known.
    others_heard = any(role != "consultant" for role in roles.values())
    if others_heard and total >= DOMINANT_MIN_TALK_S and 100.0 * own / total > DOMINANT_SHARE:
        said.append(f"You have done {100.0 * own / total:.0f}% of the talking in the last "
                    f"{HINT_WINDOW_S / 60:.0f} minutes.")
    for cut in interruptions(segments):
        if (cut.by in consultants and roles.get(cut.of) == "client"
                and now - cut.at <= CUT_OFF_SHOWN_S):
            said.append(f"{names[cut.of]} was cut off mid-sentence.")
    # Someone who has not spoken since the conversation began is as quiet as one who stopped.
    began = min((s.start for s in segments), default=now)
    last_spoke = {s.participant: s.end for s in sorted(segments, key=lambda s: s.end)}
    someone_spoke = any(now - end < QUIET_S for end in last_spoke.values())
    for who, role in roles.items():
        quiet_s = now - last_spoke.get(who, began)
        if role == "client" and someone_spoke and quiet_s >= QUIET_S:
            said.append(f"{names[who]} has not spoken for {quiet_s / 60:.0f} minutes.")
    return list(dict.fromkeys(said))


# The same measures over ``speech_segments`` (contracts.schema), as the analysts' views that
# migration 0009 creates: tests/contracts/test_speech.py checks that both give the same figures.
_FLOOR = f"{{0}}ended_at - {{0}}started_at >= interval '{BACKCHANNEL_S} seconds'"
_SECONDS = "extract(epoch FROM {})::float8"

SPEECH_TURNS_SQL = f"""
CREATE VIEW speech_turns AS
WITH floor AS (
    SELECT session_id, participant_id, started_at, ended_at,
           lag(participant_id) OVER (PARTITION BY session_id
                                     ORDER BY started_at, participant_id) AS before
    FROM speech_segments WHERE {_FLOOR.format("")}
), numbered AS (
    SELECT *, count(*) FILTER (WHERE before IS DISTINCT FROM participant_id)
                  OVER (PARTITION BY session_id ORDER BY started_at, participant_id
                        ROWS UNBOUNDED PRECEDING) AS turn
    FROM floor
), turns AS (
    SELECT session_id, turn, participant_id, min(started_at) AS started_at,
           max(ended_at) AS ended_at
    FROM numbered GROUP BY session_id, turn, participant_id
), paced AS (
    SELECT *, {_SECONDS.format(
        "started_at - lag(ended_at) OVER (PARTITION BY session_id ORDER BY turn)")} AS gap
    FROM turns
)
SELECT session_id, turn, participant_id, started_at, ended_at,
       CASE WHEN gap < 0 THEN 0 ELSE gap END AS pause_before_s
FROM paced
"""

SPEECH_INTERRUPTIONS_SQL = f"""
CREATE VIEW speech_interruptions AS
SELECT DISTINCT s.session_id, s.participant_id AS by_participant,
       o.participant_id AS of_participant, s.started_at AS at
FROM speech_segments s
JOIN speech_segments o ON o.session_id = s.session_id AND o.participant_id <> s.participant_id
     AND s.started_at >= o.started_at + interval '{MID_UTTERANCE_S} seconds'
     AND s.started_at < o.ended_at
WHERE {_FLOOR.format("s.")}
"""

_BEFORE_CUT = _SECONDS.format("least(g.ended_at, f.first_interrupted_at) - g.started_at")
SPEECH_SUMMARY_SQL = f"""
CREATE VIEW speech_summary AS
WITH talk AS (
    SELECT session_id, participant_id,
           sum({_SECONDS.format("ended_at - started_at")}) AS talk_s
    FROM speech_segments GROUP BY session_id, participant_id
), turned AS (
    SELECT session_id, participant_id, count(*) AS turns,
           max({_SECONDS.format("ended_at - started_at")}) AS longest_monologue_s,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY pause_before_s)
               AS median_response_pause_s
    FROM speech_turns GROUP BY session_id, participant_id
), made AS (
    SELECT session_id, by_participant AS participant_id, count(*) AS interruptions_made
    FROM speech_interruptions GROUP BY session_id, by_participant
), suffered AS (
    SELECT session_id, of_participant AS participant_id, count(*) AS times_interrupted,
           min(at) AS first_interrupted_at
    FROM speech_interruptions GROUP BY session_id, of_participant
)
SELECT t.session_id, t.participant_id, t.talk_s,
       100.0 * t.talk_s / nullif(sum(t.talk_s) OVER (PARTITION BY t.session_id), 0)
           AS talk_share,
       coalesce(u.turns, 0) AS turns, coalesce(u.longest_monologue_s, 0) AS longest_monologue_s,
       coalesce(m.interruptions_made, 0) AS interruptions_made,
       coalesce(f.times_interrupted, 0) AS times_interrupted,
       CASE WHEN f.first_interrupted_at IS NOT NULL THEN coalesce(
           (SELECT sum({_BEFORE_CUT})
            FROM speech_segments g
            WHERE g.session_id = t.session_id AND g.participant_id = t.participant_id
              AND g.started_at < f.first_interrupted_at), 0) END AS spoke_before_interrupted_s,
       u.median_response_pause_s
FROM talk t
LEFT JOIN turned u USING (session_id, participant_id)
LEFT JOIN made m USING (session_id, participant_id)
LEFT JOIN suffered f USING (session_id, participant_id)
"""

SESSION_SPEECH_SQL = f"""
CREATE VIEW session_speech AS
WITH reached AS (
    SELECT session_id, started_at,
           max(ended_at) OVER (PARTITION BY session_id ORDER BY started_at, ended_at
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reached
    FROM speech_segments
), gaps AS (
    SELECT session_id, greatest(0, {_SECONDS.format("started_at - reached")}) AS gap
    FROM reached
)
SELECT session_id, coalesce(sum(gap), 0) AS silence_s,
       coalesce(max(gap), 0) AS longest_silence_s
FROM gaps GROUP BY session_id
"""

VIEWS_SQL = (SPEECH_TURNS_SQL, SPEECH_INTERRUPTIONS_SQL, SPEECH_SUMMARY_SQL, SESSION_SPEECH_SQL)
