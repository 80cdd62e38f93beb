"""Who may enter a room: checked when the page opens (so a refusal comes before any camera or
consent prompt) and again when the browser joins over the WebSocket (which is what counts).

The invitation comes from the page (the link's fragment never reaches a server on its own);
the sign-in from the cookie the dashboard set. Both are looked up in PostgreSQL, off the event
loop. Requests from another site's page are refused outright: the sign-in cookie must not let
a page elsewhere join a room in someone's name.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote, urlsplit

from aiohttp import web
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from contracts.accounts import COOKIE, signed_in
from contracts.invitations import Admission, NotAdmitted, admit, room_url
from contracts.settings import Settings

ANSWER_WITHIN_S = 10.0


class Unavailable(NotAdmitted):
    """Who may enter cannot be checked now (PostgreSQL is out of reach): try again shortly."""


class Gate:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine, self.settings = engine, settings

    async def admit(self, request: web.Request, invitation: object) -> Admission:
        """The admission of the person making ``request``; raises NotAdmitted with why not."""
        if not same_origin(request):
            raise NotAdmitted("This request came from another site's page and was refused.")
        room_name = request.match_info["room"]
        token = invitation if isinstance(invitation, str) else None
        try:
            # A frozen PostgreSQL raises nothing: the visitor is answered in time all the same.
            async with asyncio.timeout(ANSWER_WITHIN_S):
                account = await asyncio.to_thread(signed_in, self.engine,
                                                  request.cookies.get(COOKIE))
                return await asyncio.to_thread(admit, self.engine, room_name, token, account)
        except (OperationalError, TimeoutError):
            raise Unavailable("The room cannot check invitations right now (its database is "
                              "unreachable). Try again in a minute.") from None

    def sign_in_url(self, room_name: str) -> str:
        back = quote(room_url(self.settings, room_name), safe="")
        return f"{self.settings.public_dashboard_url}/login?next={back}"


def same_origin(request: web.Request) -> bool:
    """False for a browser request whose page came from another origin (browsers send Origin
    with every POST and WebSocket; other clients send none and carry no one's cookie)."""
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host
