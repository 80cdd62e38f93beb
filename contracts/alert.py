"""The lasting-negativity alert: one rule for the consultant's room (Python) and the live
dashboard (SQL).

A face's *negativity* is the probability the model gives to angry, disgust, fear and sad: one
minus its positivity (contracts.quality). The alert holds for a participant at a moment when,
over their faces captured in the :attr:`AlertRule.seconds` before it (``ECONSULT_ALERT_SECONDS``),

- the mean negativity is at least :attr:`AlertRule.negative` (``ECONSULT_ALERT_NEGATIVE``), and
- the first of those faces is at least :data:`COVERED` of the window old: a few negative faces
  just after someone came back into view do not make a lasting mood.

It then says since when: the window's first face. It is shown only while the participant's
consent to face analysis stands (those who withdrew are not analysed from then on).
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import fmean

from contracts.quality import POSITIVITY_SQL, positivity
from contracts.settings import Settings

COVERED = 0.8
# negativity() over emotion_events columns.
NEGATIVITY_SQL = f"1 - ({POSITIVITY_SQL}) / 100"


def negativity(probabilities: Mapping[str, float]) -> float:
    """0-1: how much of the face's probability lies on the negative expressions."""
    return 1 - positivity(probabilities) / 100


@dataclass(frozen=True)
class AlertRule:
    negative: float
    seconds: float

    @classmethod
    def of(cls, settings: Settings) -> AlertRule:
        return cls(settings.alert_negative, settings.alert_seconds)

    def lasting(self, faces: Sequence[tuple[float, float]], now: float) -> float | None:
        """For faces as (capture time in seconds, negativity): how long the negativity has
        lasted at ``now``, or None when the alert does not hold."""
        recent = [(at, negative) for at, negative in faces if now - self.seconds < at <= now]
        if not recent:
            return None
        since = min(at for at, _ in recent)
        # fmean of a list, not of a generator, which it counts one item at a time.
        if (fmean([negative for _, negative in recent]) < self.negative
                or now - since < COVERED * self.seconds):
            return None
        return now - since

    def sql(self, faces: str, now: str = "now()") -> str:
        """:meth:`lasting` as a query: ``participant_id`` and ``negative_for_s`` of each
        participant of ``faces`` (a query of emotion_events rows) for whom the alert holds at
        ``now`` (an SQL expression)."""
        window = f"make_interval(secs => {float(self.seconds)!r})"
        covered = f"make_interval(secs => {COVERED * self.seconds!r})"
        return f"""
            SELECT participant_id,
                   extract(epoch FROM {now} - min(captured_at))::float8 AS negative_for_s
            FROM ({faces}) faces
            WHERE captured_at > {now} - {window} AND captured_at <= {now}
            GROUP BY participant_id
            HAVING avg({NEGATIVITY_SQL}) >= {float(self.negative)!r}
               AND {now} - min(captured_at) >= {covered}"""


@dataclass
class RecentFaces:
    """One participant's faces' negativity over the rule's window, fed as their frames are
    stored (two workers may store them a little out of capture order)."""

    rule: AlertRule
    faces: list[tuple[float, float]] = field(default_factory=list)

    def add(self, probabilities: Mapping[str, float], at: float) -> None:
        insort(self.faces, (at, negativity(probabilities)))
        newest = self.faces[-1][0]
        while self.faces[0][0] <= newest - self.rule.seconds:
            self.faces.pop(0)

    def lasting(self, now: float) -> float | None:
        return self.rule.lasting(self.faces, now)
