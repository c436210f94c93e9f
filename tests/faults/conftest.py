"""Fault fixtures: point the portal's Celery app at another broker (a dead port, or a private redis-server)."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """Send this process's tasks to `url` for the block (the Celery app caches its broker pools: drop them)."""
    from portal.celery import app

    def reset() -> None:
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None

    # Celery reads CELERY_BROKER_URL from the environment before its own setting, and a worker process started
    # in the block inherits the environment: switch both, restore both.
    previous = app.conf.broker_url, app.conf.broker_transport_options, app.conf.broker_transport
    original_environment = os.environ.get("CELERY_BROKER_URL")
    reset()
    app.conf.broker_url, app.conf.broker_transport_options = url, {}
    app.conf.broker_transport = "portal.broker:RedisTransport"  # as portal/settings.py picks for a redis:// URL
    os.environ["CELERY_BROKER_URL"] = url
    try:
        yield
    finally:
        reset()
        if original_environment is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = original_environment
        app.conf.broker_url, app.conf.broker_transport_options, app.conf.broker_transport = previous


@pytest.fixture
def broker_down() -> Iterator[str]:
    """A Redis broker URL on a loopback port nobody listens on, in use for the test."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    with celery_broker(url):
        yield url


class PrivateRedis:
    """A redis-server of this test's own (never the shared one), which the test may stop and start again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.folder = tempfile.mkdtemp(prefix="fault-redis-")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        command = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen([*command, "--dir", self.folder], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def queued_task_args(self, queue: str = "celery") -> list:
        """The args of every task message waiting in `queue`, oldest first (read straight from Redis)."""
        import base64
        import json

        import redis

        with redis.Redis(host="127.0.0.1", port=self.port) as connection:
            messages = [json.loads(raw) for raw in reversed(connection.lrange(queue, 0, -1))]
        return [json.loads(base64.b64decode(message["body"]))[0] for message in messages]


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)


@pytest.fixture
def redis_broker(private_redis) -> Iterator[PrivateRedis]:
    """The private redis-server as the broker of this process and of any worker process started after it."""
    with celery_broker(private_redis.url):
        yield private_redis


@pytest.fixture
def worker_options() -> list[str]:
    """As the production recipe runs it: a prefork pool (the task in a child while the parent holds the broker
    connection), with gossip, mingle and broker heartbeats left on."""
    return ["--pool", "prefork", "--concurrency", "2"]
