"""``econsult dashboard``: the managers' web app, from start to stop.

Start: connect to PostgreSQL, protect every route with sign-in, register the pages.
Serve: Dash pages (``dashboard/pages``) reading the analysts' views.
Stop: Ctrl-C or SIGTERM ends the server; the engine's connections close with the process.
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
    protect(app.server, engine)
    app.layout = html.Div([
        html.Header([
            html.H1("econsult"),
            html.Nav([dcc.Link(page["name"], href=page["relative_path"])
                      for page in dash.page_registry.values()
                      if not page.get("path_template")] +  # reports are reached from a list
                     [html.A("Sign out", href="/logout")]),
        ]),
        dash.page_container,
    ])
    return app


def run(settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app(settings)
    log.info("dashboard at http://%s:%s/", settings.dashboard_host, settings.dashboard_port)
    app.run(host=settings.dashboard_host, port=settings.dashboard_port, debug=False)
    return 0
