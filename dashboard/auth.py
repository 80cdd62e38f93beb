"""Sign-in for the dashboard: no page, no data and no Dash callback without it."""

from __future__ import annotations

from html import escape

from flask import Flask, Response, redirect, request, session
from sqlalchemy import Engine

from dashboard.users import authenticate

OPEN_PATHS = ("/login", "/logout")
LOGIN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>econsult · sign in</title><link rel="stylesheet" href="/login.css"></head><body>
<main><h1>econsult</h1><p>Session quality for managers. Sign in to continue.</p>
<form method="post"><label>Username <input name="username" autocomplete="username" required>
</label><label>Password <input name="password" type="password" autocomplete="current-password"
required></label>{error}<button type="submit">Sign in</button></form></main></body></html>"""
LOGIN_CSS = """body{font-family:system-ui,sans-serif;display:grid;place-items:center;height:90vh}
main{width:22rem}label{display:block;margin:.8rem 0}input{display:block;width:100%;
padding:.4rem;font-size:1rem}button{font-size:1rem;padding:.5rem 1.2rem}
.error{color:#b00020}"""


def protect(server: Flask, engine: Engine) -> None:
    """Every request needs a signed-in user, except signing in and out."""

    @server.before_request
    def require_sign_in() -> Response | None:
        if request.path in (*OPEN_PATHS, "/login.css") or session.get("user"):
            return None
        if request.path.startswith("/_dash"):
            return Response('{"error": "sign in first"}', 403, mimetype="application/json")
        return redirect("/login")

    @server.route("/login", methods=["GET", "POST"])
    def login() -> Response | str:
        error = ""
        if request.method == "POST":
            username = request.form.get("username", "")
            if authenticate(engine, username, request.form.get("password", "")):
                session.clear()
                session["user"] = username
                return redirect("/")
            error = '<p class="error">That username and password do not match.</p>'
        return LOGIN_PAGE.format(error=error)

    @server.route("/login.css")
    def login_css() -> Response:
        return Response(LOGIN_CSS, mimetype="text/css")

    @server.route("/logout")
    def logout() -> Response:
        session.clear()
        return redirect("/login")


def signed_in_user() -> str:
    return escape(session.get("user", ""))
