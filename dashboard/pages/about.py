"""About the numbers: what the score and the speech measures mean, how they are made, and how
far to trust them. The speech measures' definitions are written from contracts.speech's
constants and the detector's accuracy from dashboard/speech_accuracy.py, the readings' from
contracts.smoothing, contracts.baseline and contracts.reading_accuracy, so they stay true."""

from __future__ import annotations

import dash
from dash import dcc, html

from contracts.alert import COVERED
from contracts.baseline import MIN_FRAMES, USUAL_S
from contracts.reading_accuracy import MEASURED as F
from contracts.smoothing import CLEAR_MARGIN, HOLD_S, WINDOW_S
from contracts.speech import (
    BACKCHANNEL_S,
    CUT_OFF_SHOWN_S,
    DOMINANT_MIN_TALK_S,
    DOMINANT_SHARE,
    HINT_WINDOW_S,
    MID_UTTERANCE_S,
    QUIET_S,
    RECENT_S,
)
from dashboard import data
from dashboard.speech_accuracy import accuracy_text
from ingest.speech_segments import MIN_SILENCE_S, MIN_SPEECH_S

dash.register_page(__name__, path="/about", name="About the numbers",
                   title="econsult · about the numbers", order=3)

TEXT = f"""
**What is measured.** With their consent, econsult estimates the facial expression of each
client or student a few times a second: angry, disgust, fear, happy, neutral, sad or surprise,
each with a probability. Only their own face is read: anyone else in their camera is counted
("someone else in view"), never analysed. No image is kept, only these estimates. Consultants'
faces are not analysed, nor anyone's who declined or withdrew consent, from that moment on.

**The quality score.** A face's positivity is the probability given to happy, surprise and
neutral (100 × their sum). A session's score is the mean positivity of its clients' and
students' faces; the room shows it live, smoothed over 20 seconds. *Face in view* is the share
of analysed frames with the participant's face found, and *facing the screen* the share with it
found turned to the screen (the head's direction, not where the eyes look): measures of
attention, not of mood.

**The live reading.** The room and the live view do not show one frame's estimate, which jumps
from frame to frame, but the mean of the last {WINDOW_S:g} seconds of a person's estimates. Its
label, the *leading expression*, changes only when another expression has led that mean by at
least {CLEAR_MARGIN:.0%} for {HOLD_S:g} s, so a face between two expressions does not make it
alternate. When the two most probable expressions are closer than that, the reading says so:
"unclear: surprise or fear". On real clips of people talking the label changed at
{F['changes_least']:.0%}-{F['changes_most']:.0%} of updates, and after a real change of face the
new expression was shown within {F['delay_s']:g} s (9 changes in 10). Reports show how long each
expression led that reading, and how long it was unclear.

**The personal reading.** Some people's resting face reads as sad or angry all session long.
Beside the live reading, the room shows each face *compared with their usual expression*: the
face's estimates divided by the same person's usual ones (their geometric mean over the previous
{USUAL_S / 60:.0f} minutes of the session), so that a face like their usual one reads neutral and
a faint smile reads happy. It starts once {MIN_FRAMES} of their frames came before. On the London
set's 102 people, each as a session of mostly neutral faces, it read
{F['smiles_personal']:.0%} of smiles as happy (the model alone {F['smiles']:.0%}) and kept
{F['neutral_personal']:.0%} of neutral faces neutral. It shows change against a person's own
habit: someone sad all session long reads neutral by it. Read it beside the live reading, never
instead. The stored estimates are never changed by it.

**Lasting negativity.** When a client's or student's faces over the last
{data.settings.alert_seconds:g} seconds read, on average, at least
{data.settings.alert_negative:.0%} negative (the probability given to angry, disgust, fear and
sad), and those faces began at least {COVERED:.0%} of that time ago, the live view alerts on
their card and the consultant sees a quiet line on it in the room; both say since when, and
neither for someone whose consent to face analysis was withdrawn.

**How far to trust it.** On test faces (FER2013's PublicTest, each labelled by ten people) the
model ({F['model']}) agrees with most of them on {F['test_faces']:.0%} of faces, and on
{F['test_faces_balanced']:.0%} on average over the seven expressions. On real photographs of 102
adults it read every neutral face as neutral but only {F['smiles']:.0%} of smiles as happy:
closed-mouth smiles mostly read neutral. Faces on calls are harder: turned, badly lit, small. It
reads expressions, not feelings: a calm client can look sad, a nervous one can smile. Disgust and
fear are unmeasured on real faces. Compare sessions and weeks, never judge a person or a moment by
it. The full model card is `docs/model-card.md`.

**Voice analysis.** With their consent, asked apart from consent to face analysis, econsult
notes *when* each person speaks, consultants too: a speech detector listens to their own
microphone and keeps only the start and end of each stretch of their speech (one begins once
speech has lasted {MIN_SPEECH_S:g} s and ends after {MIN_SILENCE_S:g} s of quiet). It never
records what is said, and no sound is kept. People who did not agree to voice analysis are not
analysed: they are not silent, their speech is not recorded and counts in nobody's share, so
every share is of the analysed people's talk.

**The speech measures.**

- *Talk time* and *talk share*: a person's time speaking, and their part (0-100%) of all the
  analysed people's talk; two people speaking at once both count.
- *Backchannel*: an utterance shorter than {BACKCHANNEL_S:g} s ("mm-hm", "yes"). It counts as
  talk time but takes no turn and interrupts nobody.
- *Turn*: a run of one person's utterances, backchannels aside, until someone else starts one.
  A person's *longest monologue* is their longest turn.
- *Response pause*: from the end of one person's turn to the start of the next person's (0 when
  they start before the first has finished). Reports show each person's median, before their
  own turns.
- *Interruption*: someone starts an utterance (not a backchannel) while another person has been
  speaking for at least {MID_UTTERANCE_S:g} s in an utterance that has not ended. *Spoke before
  first interrupted*: how long a person had spoken before someone first cut them off ("not
  interrupted" when nobody did).
- *Silence*: between a session's first and last speech, the time nobody analysed was speaking.

**Live hints.** The consultant is told, discreetly, when they have done more than
{DOMINANT_SHARE:.0f}% of the talking in the last {HINT_WINDOW_S / 60:.0f} minutes (once there
were {DOMINANT_MIN_TALK_S:.0f} s of talk in them), when they cut a client off mid-sentence
(shown for {CUT_OFF_SHOWN_S:.0f} s), and when a client has not spoken for
{QUIET_S / 60:.0f} minutes while others have. The live view shows the same hints, who is
speaking, and everyone's share of the last {RECENT_S / 60:.0f} minutes of talk.

**How far to trust the speech measures.** {accuracy_text()} The detector counts speech loud
enough to be the person's own: a noisy room, a shared microphone or another voice leaking in
can be counted as theirs, and a quiet voice can be missed. The measures describe a
conversation, not a person: a long monologue may be what a client asked for. Compare sessions
and weeks.

**How long it is kept.** Every analysed frame, face reading and speech segment is kept
{data.settings.retention_days:g} days (then deleted a week at a time, within a week); each
session with its people, their consent and its summary {data.settings.summary_retention_days:g}
days. A report of an older session shows its summary and says its detail was deleted. Anyone's
data can be erased at any time (`econsult delete`).

**The law.** The EU AI Act forbids inferring emotions at work and in schools except for
medical or safety reasons, and requires telling people when it happens.
"""


def layout(**_: object) -> html.Div:
    versions = data.model_versions()
    return html.Div([
        html.H2("About the numbers"),
        dcc.Markdown(TEXT),
        html.P(f"Model versions in the data: {', '.join(versions) or 'none yet'}.",
               id="model-versions"),
    ])
