"""``econsult worker``: one inference worker of the consumer group, from start to stop.

Start: connect to Redis and PostgreSQL, load the face detector and the emotion model once.
Serve: take a batch (room events before frames), write it in one transaction, then XACK. While
Redis or PostgreSQL is unreachable, wait and try the same step again, with back-off: a worker
never exits for an outage.
Stop: SIGINT or SIGTERM finishes the batch in hand, leaves the group and exits.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading

import cv2

from contracts.database import engine_for
from contracts.emotion_model import EmotionClassifier
from contracts.outage import OUTAGES, Outage, Stopped, first_line
from contracts.redis_connection import connect
from contracts.settings import Settings
from worker.consumer import StreamConsumer
from worker.faces import FaceDetector
from worker.handler import BatchHandler

log = logging.getLogger("econsult.worker")


def run(settings: Settings, name: str | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    name = name or f"{socket.gethostname()}-{os.getpid()}"
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    # More worker processes beat more threads per process, for OpenCV's image work as for the
    # model: its threads split a 320x240 frame at more CPU than they save.
    cv2.setNumThreads(settings.worker_threads)
    client = connect(settings.redis_url)
    engine = engine_for(settings.database_url)
    classifier = EmotionClassifier(settings.model_path, settings.worker_threads)
    outage = Outage(log.warning)
    try:
        consumer = outage.retry(lambda: StreamConsumer(client, settings, name), stop)
    except Stopped:
        return 0
    handler = BatchHandler(consumer, engine, FaceDetector(), classifier, settings)
    log.info("worker %s ready (model %s), reading %s", name, handler.model_version,
             consumer.keys.frames)
    try:
        while not stop.is_set():
            batch = outage.retry(
                lambda: consumer.next_batch(handler.block_ms(settings.worker_block_ms)), stop)
            outage.retry(lambda b=batch: handler.handle(b), stop, waits_on="PostgreSQL")
            if outage.recovered():
                handler.outage_over()
    except Stopped:
        pass
    finally:
        try:
            consumer.leave()
        except OUTAGES as exc:
            log.warning("could not leave the group (%s); another worker will remove this one",
                        first_line(exc))
        engine.dispose()
        client.close()
        log.info("worker %s stopped after %s", name, dict(handler.totals))
    return 0
