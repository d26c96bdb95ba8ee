# SPDX-License-Identifier: Apache-2.0
"""Internal: recognising signing keys that are too weak for production.

Used by :func:`qhana_plugin_runner.config.finalize`, which refuses to start a production app
whose ``SECRET_KEY`` (or ``JWT_SECRET_KEY``) is empty, shorter than
:data:`MIN_SECRET_BYTES`, or a default or placeholder value that anyone can look up.
Debug and testing configurations are not checked.
"""

from __future__ import annotations

from typing import Final

from .defaults import DebugConfig, TestingConfig

__all__ = ["MIN_SECRET_BYTES", "KNOWN_WEAK_SECRETS", "weak_secret_reason"]

MIN_SECRET_BYTES: Final = 16

#: Compared after stripping and lower-casing. The runner's own debug and test keys are public.
KNOWN_WEAK_SECRETS: Final = frozenset(
    {
        "changeme", "change-me", "change_me", "change-this", "changethis", "change-me-in-production",
        "default", "dev", "development", "debug", "debug_secret", "insecure", "key", "none",
        "null", "password", "qhana", "replace-me", "secret", "secret-key", "secret_key",
        "secretkey", "super-secret", "super-secret-key", "supersecret", "supersecretkey",
        "test", "testing", "your-secret-key", "your_secret_key",
        str(DebugConfig.SECRET_KEY).lower(), str(TestingConfig.SECRET_KEY).lower(),
    }
)


def weak_secret_reason(value: object) -> str | None:
    """Why ``value`` is not a usable production key (never quoting it), or None if it is."""
    if value is None:
        return None
    if isinstance(value, bytes):
        raw, text = value, value.decode("utf-8", "replace")
    else:
        text = str(value)
        raw = text.encode("utf-8")
    if not text.strip():
        return "the key is empty"
    if text.strip().lower() in KNOWN_WEAK_SECRETS:
        return "the key is a well-known default or placeholder value"
    if len(raw) < MIN_SECRET_BYTES:
        return f"the key is shorter than {MIN_SECRET_BYTES} bytes"
    if len(set(text)) < 5:
        return "the key uses fewer than 5 different characters"
    return None
