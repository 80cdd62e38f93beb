"""The dashboard's Dash app, one in each server process (``dashboard/server.py`` starts,
serves and stops them): connect to PostgreSQL, protect every route with sign-in, register the
pages (``dashboard/pages``), which read the analysts' views. The engine's connections close
with the process.
"""

from __future__ import annotations

from pathlib import Path

import dash
from dash import Dash, dcc, html

from contracts.database import engine_for
from contracts.settings import Settings
from dashboard import data
from dashboard.auth import protect

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

