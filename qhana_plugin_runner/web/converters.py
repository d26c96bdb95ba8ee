# SPDX-License-Identifier: Apache-2.0
"""URL converters. ``int`` is limited to what a database integer column holds, so an id like
``/tasks/99999999999999999999/`` is a 404 instead of a database error."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

__all__ = ["DatabaseIntConverter"]

INT64_MAX = 2**63 - 1


class DatabaseIntConverter(IntegerConverter):
    """Werkzeug's ``int`` converter with ``max`` defaulting to the largest 64-bit integer."""

    def __init__(self, map, fixed_digits=0, min=None, max=INT64_MAX, signed=False):  # type: ignore[no-untyped-def]
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
