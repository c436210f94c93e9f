"""Celery's filesystem broker, publishing atomically: a message file appears in the queue folder only when complete.

Kombu's filesystem transport writes a message straight into the queue folder, and a consumer polling at that
moment moves and reads the still-empty file: the worker's consumer fails on the empty JSON and the message is lost
(seen in bench/webhook_bench.py once webhooks made messages frequent). Here the message is written under a name
the consumer ignores and renamed into place, which is atomic on one filesystem.
"""

import os
import uuid
from time import monotonic

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
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


class Transport(filesystem.Transport):
    Channel = Channel
