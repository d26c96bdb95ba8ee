# SPDX-License-Identifier: Apache-2.0
"""Errors of the registry client: the registry could not be reached, or it refused a request."""

from __future__ import annotations

from ..errors import RunnerError

__all__ = ["RegistryError", "RegistryUnavailable", "RegistryRequestError", "RegistryResponseError"]


class RegistryError(RunnerError):
    """Base class of every error the registry client raises."""

    retryable: bool = False
    """Whether the same request may succeed later (network trouble, a failing server)."""


class RegistryUnavailable(RegistryError):
    """The registry did not answer (connection refused, DNS failure, time-out)."""

    retryable = True


class RegistryRequestError(RegistryError):
    """The registry answered with an error status (other than 404, which means "not found")."""

    def __init__(self, method: str, url: str, status_code: int) -> None:
        super().__init__(f"{method} {url} answered {status_code}")
        self.method = method
        self.url = url
        self.status_code = status_code
        self.retryable = status_code >= 500 or status_code == 429


class RegistryResponseError(RegistryError):
    """The registry answered 2xx with a body that is not JSON."""
