"""kombu's Redis transport, made to survive a Redis restart while a task runs (celery 5.7.0 / kombu 5.7.0).

The bug: when the broker connection drops, celery 5.7.0's consumer first detaches the connection's transport
(`Connection.collect()`, which sets the transport's `client` to None) and then closes the connection. Closing the
channel restores its unacknowledged messages (with `acks_late` a running task always has one), which needs a new
Redis client, whose parameters are read from `transport.client`: `AttributeError: 'NoneType' object has no
attribute 'hostname'`. kombu only ignores connection errors there, so the worker stops with "Unrecoverable error"
(the same happens to the running task's ack). Here a detached channel raises Redis's ConnectionError instead,
which kombu and celery already treat as a lost connection: the worker reconnects, the task finishes, and a message
that could not be restored stays in Redis's unacked index until the visibility timeout restores it.
"""

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    """A Redis channel that reports a detached connection as a lost connection, not an AttributeError."""

    def _connparams(self, asynchronous: bool = False) -> dict:
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("The connection to the Redis broker was closed.")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    """kombu's Redis transport with the Channel above (select it with CELERY_BROKER_TRANSPORT)."""

    Channel = Channel
