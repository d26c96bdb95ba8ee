# SPDX-License-Identifier: Apache-2.0
"""Reading the members of a zip file given by URL, for plugins that receive zipped inputs."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from io import TextIOWrapper
from typing import IO, Final
from zipfile import ZipFile

from ..requests import open_url

__all__ = ["get_files_from_zip_url"]

#: Zips up to this size are kept in memory; larger ones are spooled to a temporary file.
SPOOL_MAX_SIZE: Final = 32 * 1024 * 1024
_CHUNK_SIZE: Final = 64 * 1024


def get_files_from_zip_url(url: str, mode: str = "t") -> Iterator[tuple[IO, str]]:
    """Yield ``(file_like, name)`` for every file in the zip at ``url``.

    Zip archives can only be read with random access, so the download is buffered first:
    in memory when small, in a temporary file otherwise (the original always held it in
    memory). Directory entries are skipped. Each member is open only until the next one
    is requested.

    Args:
        url: any URL :func:`~qhana_plugin_runner.requests.open_url` accepts.
        mode: ``"t"`` for text (UTF-8) members, ``"b"`` for binary ones.

    Raises:
        ValueError: for another mode.
        requests.HTTPError: when the zip cannot be fetched.
        zipfile.BadZipFile: when the content is not a zip archive.
    """
    if mode not in ("t", "b"):
        raise ValueError(f"mode must be 't' or 'b', not {mode!r}")
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_SIZE) as buffer:
        with open_url(url, stream=True) as response:
            # iter_content undoes a transfer compression (gzip), response.raw would not
            for chunk in response.iter_content(_CHUNK_SIZE):
                buffer.write(chunk)
        buffer.seek(0)
        with ZipFile(buffer) as archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                with archive.open(info) as member:
                    file_like = TextIOWrapper(member, encoding="utf-8") if mode == "t" else member
                    yield file_like, info.filename
