"""Two kombu broker transports, each mended for a failure seen here (portal/settings.py selects them).

FilesystemTransport (the embedded default) publishes atomically. Kombu's filesystem transport writes a message
straight into the queue folder, and a consumer polling at that moment moves and reads the still-empty file: the
worker's consumer fails on the empty JSON and the message is lost (seen in bench/webhook_bench.py once webhooks
made messages frequent). Here the message is written under a name the consumer ignores and renamed into place,
which is atomic on one filesystem.

RedisTransport survives a Redis restart while a task runs (celery 5.7.0 / kombu 5.7.0). When the broker
connection drops, celery's consumer first detaches the connection's transport (`Connection.collect()`, which
sets the transport's `client` to None) and then closes the connection. Closing the channel restores its
unacknowledged messages (with `acks_late` a running task always has one), which needs a new Redis client whose
parameters are read from `transport.client`: `AttributeError: 'NoneType' object has no attribute 'hostname'`.
kombu only ignores connection errors there, so the worker stopped with "Unrecoverable error". Here a detached
channel raises Redis's ConnectionError instead, which kombu and celery already treat as a lost connection: the
worker reconnects, the task finishes, and a message that could not be restored stays in Redis's unacked index
until the visibility timeout restores it.
"""

import os
import uuid
from time import monotonic

from kombu.transport import filesystem
from kombu.transport import redis as kombu_redis
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps
from redis.exceptions import ConnectionError as RedisConnectionError


class FilesystemChannel(filesystem.Channel):
    """A filesystem channel whose messages appear in the queue folder only when complete."""

    def _put(self, queue, payload, **kwargs) -> None:
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # A leading dot: the consumer takes only names whose text after the first dot is "<queue>.msg".
        partial = os.path.join(self.data_folder_out, f".{name}.partial")
        try:
            with open(partial, "wb", buffering=0) as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc


class FilesystemTransport(filesystem.Transport):
    """kombu's filesystem transport with the channel above."""

    Channel = FilesystemChannel


class RedisChannel(kombu_redis.Channel):
    """A Redis channel that reports a detached connection as a lost connection, not an AttributeError."""

    def _connparams(self, asynchronous: bool = False) -> dict:
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("The connection to the Redis broker was closed.")
        return super()._connparams(asynchronous=asynchronous)


class RedisTransport(kombu_redis.Transport):
    """kombu's Redis transport with the channel above."""

    Channel = RedisChannel
