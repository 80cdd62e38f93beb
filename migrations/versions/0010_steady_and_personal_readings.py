"""Readings that show their doubt, and a personal reading.

- ``emotion_readings`` now gives, for every stored face, what was shown at it by the rule of
  contracts.smoothing as of this revision: the probabilities averaged over 2 s, the top two
  expressions and the margin between them, the leading expression with hysteresis
  (``leading_expression``, which changes only when another leads by 0.10 for 0.5 s, NULL when
  nothing did within 30 s), ``unclear`` and ``shown`` ("happy", "unclear: fear or surprise").
- ``personal_readings``: the same, of each face compared with the person's usual face
  (contracts.baseline), from their 20th frame on.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from importlib import import_module

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

EARLIER = import_module("migrations.versions.0006_readings_and_attention")

# contracts.smoothing.readings_sql(EVENTS), as of this revision.
READINGS = """
WITH smoothed AS (
    SELECT e.session_id, e.participant_id, e.capture_id, e.seq, e.captured_at,
           avg(e.angry) OVER w AS angry,
           avg(e.disgust) OVER w AS disgust,
           avg(e.fear) OVER w AS fear,
           avg(e.happy) OVER w AS happy,
           avg(e.neutral) OVER w AS neutral,
           avg(e.sad) OVER w AS sad,
           avg(e.surprise) OVER w AS surprise
    FROM ({events}) e
    WINDOW w AS (PARTITION BY e.session_id, e.participant_id
        ORDER BY e.captured_at
        RANGE BETWEEN interval '2.0 seconds' PRECEDING AND CURRENT ROW)
), ranked AS (
    SELECT s.*, t.o[1] AS top_expression, t.o[2] AS second_expression,
           t.p[1] - t.p[2] AS margin
    FROM smoothed s CROSS JOIN LATERAL (
        SELECT array_agg(u.name ORDER BY u.p DESC, u.i) AS o,
               array_agg(u.p ORDER BY u.p DESC, u.i) AS p
        FROM unnest(ARRAY['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise'],
                    ARRAY[s.angry, s.disgust, s.fear, s.happy, s.neutral, s.sad, s.surprise])
             WITH ORDINALITY AS u(name, p, i)) t
), held AS (
    SELECT r.*,
           CASE WHEN bool_and(r.margin >= 0.1) OVER h
                 AND min(r.top_expression) OVER h = max(r.top_expression) OVER h
                THEN r.top_expression END AS held
    FROM ranked r
    WINDOW h AS (PARTITION BY r.session_id, r.participant_id
        ORDER BY r.captured_at
        RANGE BETWEEN interval '0.5 seconds' PRECEDING AND CURRENT ROW)
), remembered AS (
    -- A window aggregate takes its rows in the window's order: the array's last is the newest.
    SELECT l.*, array_agg(l.held) FILTER (WHERE l.held IS NOT NULL) OVER m AS recent
    FROM held l
    WINDOW m AS (PARTITION BY l.session_id, l.participant_id
        ORDER BY l.captured_at
        RANGE BETWEEN interval '30.0 seconds' PRECEDING AND CURRENT ROW)
), shown AS (
    SELECT m.*, m.recent[cardinality(m.recent)] AS leading,
           m.recent IS NULL OR m.margin < 0.1 AS unclear
    FROM remembered m
)
SELECT x.session_id, x.participant_id, x.capture_id, x.seq, x.captured_at,
       x.angry,
       x.disgust,
       x.fear,
       x.happy,
       x.neutral,
       x.sad,
       x.surprise,
       x.top_expression::emotion, x.second_expression::emotion, x.margin,
       x.leading::emotion AS leading_expression, x.unclear,
       CASE WHEN x.unclear THEN 'unclear: ' || x.top_expression || ' or ' || x.second_expression
            ELSE x.leading END AS shown
FROM shown x
"""

# contracts.baseline.personal_sql(EVENTS), as of this revision.
PERSONAL = """
WITH logs AS (
    SELECT e.session_id, e.participant_id, e.capture_id, e.seq, e.captured_at,
           round(ln(greatest(e.angry, 0.001))::numeric, 12) AS log_angry,
           round(ln(greatest(e.disgust, 0.001))::numeric, 12) AS log_disgust,
           round(ln(greatest(e.fear, 0.001))::numeric, 12) AS log_fear,
           round(ln(greatest(e.happy, 0.001))::numeric, 12) AS log_happy,
           round(ln(greatest(e.neutral, 0.001))::numeric, 12) AS log_neutral,
           round(ln(greatest(e.sad, 0.001))::numeric, 12) AS log_sad,
           round(ln(greatest(e.surprise, 0.001))::numeric, 12) AS log_surprise
    FROM ({events}) e
), usual AS (
    SELECT l.*,
           sum(l.log_angry) OVER b - l.log_angry AS before_angry,
           sum(l.log_disgust) OVER b - l.log_disgust AS before_disgust,
           sum(l.log_fear) OVER b - l.log_fear AS before_fear,
           sum(l.log_happy) OVER b - l.log_happy AS before_happy,
           sum(l.log_neutral) OVER b - l.log_neutral AS before_neutral,
           sum(l.log_sad) OVER b - l.log_sad AS before_sad,
           sum(l.log_surprise) OVER b - l.log_surprise AS before_surprise,
           count(*) OVER b - 1 AS frames_before
    FROM logs l
    WINDOW b AS (PARTITION BY l.session_id, l.participant_id ORDER BY l.captured_at
        RANGE BETWEEN interval '300.0 seconds' PRECEDING AND CURRENT ROW)
), weighted AS (
    SELECT u.session_id, u.participant_id, u.capture_id, u.seq, u.captured_at,
           exp((u.log_angry - u.before_angry / u.frames_before)::float8) * 0.1 AS angry,
           exp((u.log_disgust - u.before_disgust / u.frames_before)::float8) * 0.1 AS disgust,
           exp((u.log_fear - u.before_fear / u.frames_before)::float8) * 0.1 AS fear,
           exp((u.log_happy - u.before_happy / u.frames_before)::float8) * 0.1 AS happy,
           exp((u.log_neutral - u.before_neutral / u.frames_before)::float8) * 0.4 AS neutral,
           exp((u.log_sad - u.before_sad / u.frames_before)::float8) * 0.1 AS sad,
           exp((u.log_surprise - u.before_surprise / u.frames_before)::float8) * 0.1 AS surprise
    FROM usual u WHERE u.frames_before >= 20
)
SELECT w.session_id, w.participant_id, w.capture_id, w.seq, w.captured_at,
       w.angry / t.total AS angry,
       w.disgust / t.total AS disgust,
       w.fear / t.total AS fear,
       w.happy / t.total AS happy,
       w.neutral / t.total AS neutral,
       w.sad / t.total AS sad,
       w.surprise / t.total AS surprise
FROM weighted w
CROSS JOIN LATERAL (
    SELECT w.angry + w.disgust + w.fear + w.happy + w.neutral + w.sad + w.surprise AS total) t
"""

EVENTS = "SELECT * FROM emotion_events"


def upgrade() -> None:
    op.execute("DROP VIEW emotion_readings")
    op.execute("CREATE VIEW emotion_readings AS " + READINGS.format(events=EVENTS))
    op.execute("CREATE VIEW personal_readings AS "
               + READINGS.format(events=PERSONAL.format(events=EVENTS)))


def downgrade() -> None:
    op.execute("DROP VIEW personal_readings")
    op.execute("DROP VIEW emotion_readings")
    op.execute(EARLIER.EMOTION_READINGS)
