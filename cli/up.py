"""``econsult up``: migrate, start every service as a child process, stop them all on Ctrl-C.

A service that crashes is restarted; one that crashes again within ``FLAP_S`` of starting
stops everything, because that is a configuration problem a restart will not fix.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from sqlalchemy import make_url

from contracts.settings import Settings
from migrations.runner import upgrade

FLAP_S = 10.0
STOP_GRACE_S = 10.0


@dataclass
class Service:
    name: str
    args: list[str]
    process: subprocess.Popen | None = None
    started: float = 0.0
    restarts: int = field(default=0)

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "cli.main", *self.args])
        self.started = time.monotonic()
        print(f"  {self.name:<10} pid {self.process.pid}")


def run_all(settings: Settings, workers: int) -> int:
    print(f"migrating {make_url(settings.database_url).render_as_string(hide_password=True)}")
    upgrade(settings.database_url)
    services = [Service("ingest", ["ingest"]), Service("dashboard", ["dashboard"])]
    services += [Service(f"worker-{i + 1}", ["worker", "--name", f"worker-{i + 1}"])
                 for i in range(workers)]
    print(f"starting {len(services)} services (Redis {settings.redis_url}, "
          f"streams {settings.redis_prefix}:*):")
    for service in services:
        service.start()
    room = f"http://{settings.ingest_host}:{settings.ingest_port}/room"
    board = f"http://{settings.dashboard_host}:{settings.dashboard_port}/"
    print(f"running; Ctrl-C stops them all.\n"
          f"  consult room:  {room}/NAME?role=consultant (clients: ?role=client)\n"
          f"  dashboard:     {board} (create a user: .venv/bin/econsult user add NAME)\n"
          f"  a recording:   .venv/bin/econsult analyze VIDEO --room NAME --participant NAME")
    signal.signal(signal.SIGTERM, lambda *_: _interrupt())
    try:
        return _supervise(services)
    except KeyboardInterrupt:
        print("\nstopping…")
        return 0
    finally:
        _stop(services)


def _supervise(services: list[Service]) -> int:
    while True:
        for service in services:
            code = service.process.poll()
            if code is None:
                continue
            if time.monotonic() - service.started < FLAP_S:
                print(f"{service.name} exited with code {code} right after starting; stopping "
                      "everything (see its output above)", file=sys.stderr)
                return 1
            print(f"{service.name} exited with code {code}; restarting it", file=sys.stderr)
            service.restarts += 1
            service.start()
        time.sleep(0.5)


def _stop(services: list[Service]) -> None:
    running = [s for s in services if s.process and s.process.poll() is None]
    for service in running:
        service.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for service in running:
        try:
            service.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            service.process.kill()
            service.process.wait()
        print(f"  {service.name} stopped")


def _interrupt() -> None:
    raise KeyboardInterrupt
