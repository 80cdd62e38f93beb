"""``econsult dashboard``: the managers' web app, from start to stop.

Start: connect to PostgreSQL, protect every route with sign-in, register the pages.
Serve: Dash pages (``dashboard/pages``) reading the analysts' views, on gunicorn
(``dashboard/server.py``: threaded worker processes, each with its own app; HTTPS when
``ECONSULT_TLS_CERT`` is set).
Stop: Ctrl-C or SIGTERM ends the server; the engine's connections close with each process.
"""

from __future__ import annotations

import logging
from pathlib import Path

import dash
from dash import Dash, dcc, html

from contracts.database import engine_for
from contracts.settings import Settings
from dashboard import data
from dashboard.auth import protect
from dashboard.server import serve

log = logging.getLogger("econsult.dashboard")
HERE = Path(__file__).resolve().parent
REPORT_WORK_MEM = "64MB"


def create_app(settings: Settings) -> Dash:
    # Reports aggregate hundreds of thousands of rows: 4 MB (the default) sorted them on disk.
    engine = engine_for(settings.database_url, work_mem=REPORT_WORK_MEM)
    data.use(engine, settings)
    app = Dash(__name__, use_pages=True, pages_folder=str(HERE / "pages"),
               assets_folder=str(HERE / "assets"), title="econsult",
               suppress_callback_exceptions=True)
    protect(app.server, engine, settings)
    app.layout = html.Div([
        html.Header([
            html.H1("econsult"),
            html.Nav([dcc.Link(page["name"], href=page["relative_path"])
                      for page in dash.page_registry.values()
                      if not page.get("path_template")] +  # reports are reached from a list
                     [html.Form(html.Button("Sign out", type="submit"), action="/logout",
                                method="post", className="sign-out")]),
        ]),
        dash.page_container,
    ])
    return app


def run(settings: Settings) -> int:
    """Serve on gunicorn; Flask's development server (``app.run``) only ever runs in
    ``econsult bench dashboard``, to compare."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    return serve(settings)
