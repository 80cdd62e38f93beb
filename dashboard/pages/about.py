"""About the numbers: what the score means, how it is made, and how far to trust it."""

from __future__ import annotations

import dash
from dash import dcc, html

from dashboard import data

dash.register_page(__name__, path="/about", name="About the numbers",
                   title="econsult · about the numbers", order=3)

TEXT = """
**What is measured.** With their consent, econsult estimates the facial expression of each
client or student a few times a second: angry, disgust, fear, happy, neutral, sad or surprise,
each with a probability. Only their own face is read: anyone else in their camera is counted
("someone else in view"), never analysed. No image is kept, only these estimates. Consultants
are not analysed, nor is anyone who declined or withdrew consent, from that moment on.

**The quality score.** A face's positivity is the probability given to happy, surprise and
neutral (100 × their sum). A session's score is the mean positivity of its clients' and
students' faces; the room shows it live, smoothed over 20 seconds. *Face in view* is the share
of analysed frames with the participant's face found, and *facing the screen* the share with it
found turned to the screen (the head's direction, not where the eyes look): measures of
attention, not of mood.

**The live reading.** The room and the live view do not show one frame's estimate, which jumps
from frame to frame, but the mean of the last 3 seconds of a person's estimates and the
expression leading it: one frame read otherwise cannot swing it, and a real change shows after
a second or two. Reports show how long each expression led that reading.

**How far to trust it.** The model names the right expression for about 3 faces in 4 on test
photos, and faces on calls are harder. It reads expressions, not feelings: a calm client can
look sad, a nervous one can smile. Disgust and fear are unmeasured on real faces. Compare
sessions and weeks, never judge a person or a moment by it. The full model card is
`docs/model-card.md`.

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
