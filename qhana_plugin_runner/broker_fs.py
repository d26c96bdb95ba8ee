# SPDX-License-Identifier: Apache-2.0
"""Internal: kombu's filesystem transport with atomic publishing and claiming.

kombu's own channel writes a message file in place and lets a reader move it away while it is
still being written, so under load a worker can read an empty message and stop with
``JSONDecodeError``. Here a message is written under a hidden temporary name and renamed into
the queue folder (rename is atomic), and a reader claims a message by renaming it into a
``claimed`` folder beside the queue (only one reader can win), reads it and deletes it.

:mod:`qhana_plugin_runner.celery` registers this class for the ``filesystem://`` scheme.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic_ns
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

__all__ = ["Channel", "Transport"]


class Channel(filesystem.Channel):
    """Filesystem channel whose messages appear and disappear atomically."""

    @property
    def _claim_folder(self) -> Path:
        folder = Path(self.data_folder_in).resolve().parent / "claimed"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        # nanoseconds (system-wide clock): messages are read in the order they were sent, also
        # several within one millisecond (a burst of submissions); the uuid keeps names unique
        name = f"{monotonic_ns():020d}_{uuid.uuid4()}.{queue}.msg"
        folder = Path(self.data_folder_out)
        temp = folder / f".{name}.tmp"
        try:
            with open(temp, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(temp, folder / name)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise ChannelError(f"Cannot add message {name!r} to {folder}") from exc

    def _get(self, queue: str) -> Any:
        suffix = f"{queue}.msg"
        folder = Path(self.data_folder_in)
        for name in sorted(os.listdir(folder)):
            if name.startswith(".") or name.partition(".")[2] != suffix:
                continue
            claimed = self._claim_folder / name
            try:
                os.rename(folder / name, claimed)  # whoever renames first owns the message
            except FileNotFoundError:
                continue
            try:
                payload = claimed.read_bytes()
                if self.store_processed:
                    os.replace(claimed, Path(self.processed_folder) / name)
                else:
                    claimed.unlink()
            except OSError as exc:
                raise ChannelError(f"Cannot read message {name!r}") from exc
            return loads(bytes_to_str(payload))
        raise Empty()


class Transport(filesystem.Transport):
    Channel = Channel
