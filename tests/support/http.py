"""Plain HTTP requests from tests, answered with their status and never following redirects
(a redirect to the sign-in page is itself the answer)."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def opener(context: ssl.SSLContext | None = None) -> urllib.request.OpenerDirector:
    """An opener that leaves redirects unfollowed (they raise HTTPError, headers and all)."""
    return urllib.request.build_opener(urllib.request.HTTPSHandler(context=context),
                                       _NoRedirect())


def status_of(request: str | urllib.request.Request) -> int:
    """The status of the answer; 0 while nothing answers."""
    try:
        with opener().open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0
