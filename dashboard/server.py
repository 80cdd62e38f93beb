"""``econsult dashboard``: the consultants' and managers' web app (``dashboard/app.py``) on a
production WSGI server, from start to stop: gunicorn, threaded workers, HTTPS when configured.

Start: check the TLS files (a clear error, exit 2, before anything listens), then gunicorn's
master binds the port and forks ``WORKERS`` processes; each builds its own Dash app, and with
it its own SQLAlchemy engine, after the fork (no preload: a connection pool must never be
shared across a fork).
Serve: ``THREADS`` requests at once per process.
Stop: SIGTERM or Ctrl-C; the master gives its workers ``GRACEFUL_S`` to finish the requests in
hand (well inside ``econsult up``'s grace), then exits 0.

Why 2 processes of 4 threads: a page's work is mostly waiting on PostgreSQL (threads wait in
parallel) and then building its Plotly figure in Python (which holds the GIL, so a second
process renders a second report at the same time). Two processes also keep serving while one
is replaced. A handful of managers, each tab polling the live view, never needs more than 8
requests at once; each process costs about 90 MB, and at most 4 PostgreSQL connections (one
per thread), so this fits a small host beside the workers. Measured on 2 cores
(``econsult bench dashboard``): 1 process of 8 threads served half as many requests a second,
4 of 2 and 2 of 8 no more.

The access log leaves out query strings and referrers: nothing secret belongs in our URLs,
but a link pasted with one should not end up in a log.
"""

from __future__ import annotations

import functools
import logging
import os
from typing import Any

from gunicorn.app.base import BaseApplication

from contracts.settings import Settings
from contracts.tls import server_context
from dashboard.app import create_app

log = logging.getLogger("econsult.dashboard")
WORKERS, THREADS = 2, 4
GRACEFUL_S = 4  # cli/up.py waits FRONT_GRACE_S (7 s) before it kills
ACCESS_LOG = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'


class DashboardServer(BaseApplication):
    """gunicorn with its configuration from ``Settings`` (no command line, no config file)."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings, self.options = settings, options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            if name in self.cfg.settings:  # control_socket_disable: gunicorn 25.1 and later
                self.cfg.set(name, value)

    def load(self) -> Any:
        # In each worker, after the fork: each process has its own app and engine.
        return create_app(self.settings).server


def options(settings: Settings) -> dict[str, Any]:
    """gunicorn's settings for these econsult settings."""
    host = f"[{settings.dashboard_host}]" if ":" in settings.dashboard_host \
        else settings.dashboard_host
    chosen: dict[str, Any] = {
        "bind": [f"{host}:{settings.dashboard_port}"],
        "worker_class": "gthread", "workers": WORKERS, "threads": THREADS,
        "preload_app": False,
        "timeout": 60, "graceful_timeout": GRACEFUL_S, "keepalive": 5,
        "accesslog": "-", "access_log_format": ACCESS_LOG,
        "proc_name": "econsult-dashboard",
        # A control socket in $HOME would be shared by every dashboard on the machine.
        "control_socket_disable": True,
    }
    if os.path.isdir("/dev/shm"):  # the workers' heartbeat files: never on a slow disk
        chosen["worker_tmp_dir"] = "/dev/shm"
    if settings.tls_cert:
        # gunicorn turns TLS on when certfile is set; the context itself is ours (contracts/tls),
        # made once per worker instead of gunicorn's once per connection.
        context = functools.cache(lambda: server_context(settings))
        chosen.update(certfile=settings.tls_cert, keyfile=settings.tls_key,
                      ssl_context=lambda _config, _default: context())
    return chosen


def serve(settings: Settings) -> int:
    """Run the dashboard until SIGTERM or Ctrl-C; the exit status (0 on a clean stop). Flask's
    development server (``app.run``) only ever runs in ``econsult bench dashboard``, to compare."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    tls = server_context(settings)  # refuses a missing or mismatched file before binding
    scheme = "https" if tls else "http"
    log.info("dashboard at %s://%s:%s/ (%d processes of %d threads; public address %s)",
             scheme, settings.dashboard_host, settings.dashboard_port, WORKERS, THREADS,
             settings.public_dashboard_url)
    try:
        DashboardServer(settings, options(settings)).run()
    except SystemExit as stopped:  # the master exits through sys.exit, 0 when stopped cleanly
        return stopped.code if isinstance(stopped.code, int) else 1
    return 0

