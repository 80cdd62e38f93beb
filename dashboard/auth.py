"""Sign-in for the dashboard: no page, no data and no Dash callback without it.

Sign-ins live on the server (contracts.accounts): the cookie holds a random token, is
``HttpOnly``, ``SameSite=Lax`` and ``Secure`` over HTTPS, and signing out ends the sign-in
there. Every request that changes something (a form, a Dash callback) must come from one of
our own pages: browsers name the page's origin on every POST, and one from elsewhere is refused.
Repeated failed sign-ins are slowed for the username and for the client's address, which behind
the TLS proxy is the one its X-Forwarded-For names (``ECONSULT_TRUSTED_PROXIES``).
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from flask import Flask, Response, g, redirect, request
from sqlalchemy import Engine

from contracts.accounts import (
    COOKIE,
    Account,
    TooManyFailures,
    authenticate,
    sign_in,
    sign_out,
    signed_in,
)
from contracts.proxy import client_address
from contracts.settings import Settings

OPEN_PATHS = ("/login", "/login.css")
LOGIN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>econsult · sign in</title><link rel="stylesheet" href="/login.css"></head><body>
<main><h1>econsult</h1><p>Session quality and consult rooms. Sign in to continue.</p>
<form method="post"><input type="hidden" name="next" value="{next}">
<label>Username <input name="username" autocomplete="username" required>
</label><label>Password <input name="password" type="password" autocomplete="current-password"
required></label>{error}<button type="submit">Sign in</button></form></main></body></html>"""
LOGIN_CSS = """body{font-family:system-ui,sans-serif;display:grid;place-items:center;height:90vh}
main{width:22rem}label{display:block;margin:.8rem 0}input{display:block;width:100%;
padding:.4rem;font-size:1rem}button{font-size:1rem;padding:.5rem 1.2rem}
.error{color:#b00020}"""


def protect(server: Flask, engine: Engine, settings: Settings) -> None:
    """Every request needs a signed-in user, except signing in; changes need our own pages."""

    @server.before_request
    def require_sign_in() -> Response | None:
        if request.method not in ("GET", "HEAD") and not _from_our_page():
            return Response("This request came from another site's page and was refused.", 403)
        g.account = signed_in(engine, request.cookies.get(COOKIE))
        if request.path in OPEN_PATHS or g.account is not None:
            return None
        if request.path.startswith("/_dash"):
            return Response('{"error": "sign in first"}', 403, mimetype="application/json")
        return redirect("/login")

    @server.route("/login", methods=["GET", "POST"])
    def login() -> Response | tuple[str, int] | str:
        back = _safe_next(request.values.get("next", ""), settings)
        if request.method == "GET":
            return LOGIN_PAGE.format(next=escape(back), error="")
        try:
            address = client_address(request.remote_addr,
                                     request.headers.get("X-Forwarded-For", ""),
                                     settings.trusted_proxies)
            account = authenticate(engine, request.form.get("username", ""),
                                   request.form.get("password", ""), address)
        except TooManyFailures as exc:
            return _login_error(back, str(exc)), 429
        if account is None:
            return _login_error(back, "That username and password do not match."), 401
        response = redirect(back)
        response.set_cookie(COOKIE, sign_in(engine, account, settings.sign_in_hours),
                            max_age=int(settings.sign_in_hours * 3600), httponly=True,
                            secure=_secure(settings), samesite="Lax")
        return response

    @server.route("/login.css")
    def login_css() -> Response:
        return Response(LOGIN_CSS, mimetype="text/css")

    @server.route("/logout", methods=["POST"])
    def logout() -> Response:
        sign_out(engine, request.cookies.get(COOKIE))
        response = redirect("/login")
        response.delete_cookie(COOKIE, httponly=True, secure=_secure(settings), samesite="Lax")
        return response


def current_account() -> Account:
    """Who is signed in for this request (every page and callback has someone)."""
    return g.account


def _login_error(back: str, message: str) -> str:
    return LOGIN_PAGE.format(next=escape(back), error=f'<p class="error">{escape(message)}</p>')


def _from_our_page() -> bool:
    origin = request.headers.get("Origin")
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return False
    return origin is None or urlsplit(origin).netloc == request.host


def _secure(settings: Settings) -> bool:
    return request.is_secure or settings.public_dashboard_url.startswith("https://")


def _safe_next(target: str, settings: Settings) -> str:
    """Where to go after signing in: one of our own pages or rooms, never another site."""
    if target.startswith("/") and not target.startswith("//"):
        return target
    if target.startswith(f"{settings.public_room_url}/room/"):
        return target
    return "/"
