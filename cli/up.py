"""``econsult up``: migrate, start every service as a child process, stop them all on Ctrl-C.

A service that exits is started again, after a pause that doubles while it keeps failing
soon after starting (up to ``LONGEST_PAUSE_S``); the others go on meanwhile. The children run
in their own process group, so Ctrl-C reaches only this supervisor, which stops them in the
order of the data flow: ingest first (it records the end of every live session), then the
dashboard, then, once they have read every room event ingest sent (up to ``DRAIN_S``), the
workers, and last the SFU (Janus, started first: calls go through it). SIGINT and SIGTERM
both stop it, within ``STOP_WITHIN_S``, however it was started; killed outright, it takes its
services with it (cli/children.py).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import redis
from sqlalchemy import make_url

from cli import CommandError, children
from contracts.outage import OUTAGES
from contracts.redis_connection import connect
from contracts.settings import Settings
from contracts.stream import Backlog, StreamKeys
from migrations.runner import upgrade

# Stopping takes at most FRONT_GRACE_S + DRAIN_S + BACK_GRACE_S: within the 15 s that process
# managers (systemd, Docker) and scripts give before they kill.
FRONT_GRACE_S = 7.0  # ingest sends its sessions' ends for up to 5 s (ingest/server.py)
DRAIN_S = 3.0
BACK_GRACE_S = 4.0  # a worker finishes the batch in hand
STOP_WITHIN_S = FRONT_GRACE_S + DRAIN_S + BACK_GRACE_S
FIRST_PAUSE_S, LONGEST_PAUSE_S = 1.0, 30.0
# A service that ran this long before exiting was healthy: its next start is not delayed.
HEALTHY_S = 60.0


@dataclass
class Service:
    name: str
    args: list[str]
    process: subprocess.Popen | None = None
    started: float = 0.0
    pause_s: float = FIRST_PAUSE_S
    restart_at: float | None = None

    def start(self) -> None:
        self.process = children.start([sys.executable, "-m", "cli.main", *self.args],
                                      own_session=True)
        self.started, self.restart_at = time.monotonic(), None
        print(f"  {self.name:<10} pid {self.process.pid}")

    def exited(self, code: int) -> None:
        """Plan the next start: at once after a long healthy run, else after a growing pause."""
        ran = time.monotonic() - self.started
        self.pause_s = FIRST_PAUSE_S if ran > HEALTHY_S else min(2 * self.pause_s,
                                                                  LONGEST_PAUSE_S)
        self.restart_at = time.monotonic() + (0.0 if ran > HEALTHY_S else self.pause_s)
        print(f"{self.name} exited with code {code} after {ran:.0f} s; starting it again in "
              f"{self.restart_at - time.monotonic():.0f} s (see its output above)",
              file=sys.stderr)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def run_all(settings: Settings, workers: int) -> int:
    # Both stop it. SIGINT's handler is set even though Python sets one: started in the
    # background by a shell script (`scripts/run &`), a process inherits SIGINT ignored, and
    # Python then leaves it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: _interrupt())
    print(f"migrating {make_url(settings.database_url).render_as_string(hide_password=True)}")
    upgrade(settings.database_url)
    _share_janus(settings)
    services = [Service("janus", ["janus"]), Service("ingest", ["ingest"]),
                Service("dashboard", ["dashboard"])]
    services += [Service(f"worker-{i + 1}", ["worker", "--name", f"worker-{i + 1}"])
                 for i in range(workers)]
    print(f"starting {len(services)} services (Redis {settings.redis_url}, "
          f"streams {settings.redis_prefix}:*):")
    try:
        for service in services:
            service.start()
        print(f"running; Ctrl-C stops them all.\n"
              f"  dashboard:     {settings.public_dashboard_url}/ (an account: "
              ".venv/bin/econsult user add NAME --role consultant|manager)\n"
              f"  consult rooms: {settings.public_room_url}/room/NAME, set up on the "
              "dashboard's Rooms page or with .venv/bin/econsult room create NAME --consultant "
              "NAME\n"
              f"  a recording:   .venv/bin/econsult analyze VIDEO --room NAME --participant NAME")
        _supervise(services)
    except KeyboardInterrupt:
        print("\nstopping…")
    finally:
        _stop(services, settings)
    return 0


def _supervise(services: list[Service]) -> None:
    while True:
        for service in services:
            code = service.process.poll()
            if code is not None and service.restart_at is None:
                service.exited(code)
            if service.restart_at is not None and time.monotonic() >= service.restart_at:
                service.start()
        time.sleep(0.5)


def _share_janus(settings: Settings) -> None:
    """Calls go through Janus: the services this starts are told where it listens and its admin
    key (one made for this run, unless ECONSULT_JANUS_ADMIN_KEY gives one)."""
    if shutil.which("janus") is None:
        raise CommandError("janus is not installed; scripts/setup installs it (calls go "
                           "through it)")
    os.environ["ECONSULT_JANUS_URL"] = settings.janus_url
    os.environ["ECONSULT_JANUS_ADMIN_KEY"] = settings.janus_admin_key or secrets.token_urlsafe(32)


def _stop(services: list[Service], settings: Settings) -> None:
    # A second Ctrl-C must not cut the stop short and leave services running: it is bounded.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    janus, ingest, dashboard, *workers = services
    _terminate([ingest, dashboard], FRONT_GRACE_S)
    if any(w.running() for w in workers):
        _drain(settings)
    _terminate([*workers, janus], BACK_GRACE_S)  # Janus last: ingest ended its rooms there first


def _terminate(services: list[Service], grace_s: float) -> None:
    """SIGTERM to each, and SIGKILL to those still running after ``grace_s``."""
    running = [s for s in services if s.running()]
    for service in running:
        service.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for service in running:
        try:
            service.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            service.process.kill()
            service.process.wait()
        print(f"  {service.name} stopped")


def _drain(settings: Settings) -> None:
    """Give the workers up to ``DRAIN_S`` to store the room events ingest sent as it stopped."""
    client = connect(settings.redis_url)
    stream = StreamKeys.for_prefix(settings.redis_prefix).room_events
    deadline = time.monotonic() + DRAIN_S
    try:
        while time.monotonic() < deadline:
            backlog = Backlog.of(client.xinfo_stream(stream), client.xinfo_groups(stream))
            if not backlog.unread + backlog.pending:
                return
            time.sleep(0.2)
        print(f"  the workers did not store every room event within {DRAIN_S:.0f} s; they "
              "will when they next run", file=sys.stderr)
    except (*OUTAGES, redis.ResponseError):
        pass  # Redis away or the stream never made: nothing to wait for
    finally:
        client.close()


def _interrupt() -> None:
    raise KeyboardInterrupt


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("up", help="migrate, then run every service until Ctrl-C")
    parser.add_argument("--workers", type=int,
                        help="worker processes (default ECONSULT_WORKERS)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    return run_all(settings, args.workers or settings.workers)
