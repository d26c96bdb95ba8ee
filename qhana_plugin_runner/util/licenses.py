# SPDX-License-Identifier: Apache-2.0
"""Licences of the third-party distributions installed next to the runner.

Read from the installed metadata (``importlib.metadata``) on the first call and cached for the
life of the process: what is installed does not change while the runner runs. Used by the
``/licenses/`` page and by ``invoke list-licenses``.
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
from dataclasses import dataclass
from email.message import Message
from functools import lru_cache

from packaging.utils import canonicalize_name

__all__ = ["DistributionLicense", "installed_licenses", "render_licenses", "FORMATS"]

RUNNER_DISTRIBUTION = "qhana-plugin-runner"
FORMATS = ("text", "json", "markdown")
# a License field longer than this (or spanning lines) is the licence text, not its name
_SHORT_LICENSE = 80
# Project-URL labels that name a home page, best first
_HOME_LABELS = ("homepage", "home", "home page", "source", "source code", "repository", "code")


@dataclass(frozen=True)
class DistributionLicense:
    """One installed distribution and its licence as its metadata states it."""

    name: str
    version: str
    license: str
    home_page: str

    def as_json(self) -> dict[str, str]:
        """The camelCase form used by the JSON answer of ``/licenses/``."""
        return {
            "name": self.name,
            "version": self.version,
            "license": self.license,
            "homePage": self.home_page,
        }


def _license_of(meta: Message) -> str:
    """``License-Expression``, else a short ``License`` field, else the trove classifiers."""
    expression = (meta.get("License-Expression") or "").strip()
    if expression:
        return expression
    field = (meta.get("License") or "").strip()
    if field and "\n" not in field and len(field) <= _SHORT_LICENSE and field.upper() != "UNKNOWN":
        return field
    classifiers = [
        c.split("::")[-1].strip()
        for c in meta.get_all("Classifier") or []
        if c.startswith("License ::")
    ]
    return ", ".join(dict.fromkeys(classifiers)) or "unknown"


def _home_page_of(meta: Message) -> str:
    """``Home-page``, else the best-labelled ``Project-URL``, else the first one."""
    home = (meta.get("Home-page") or "").strip()
    if home and home.upper() != "UNKNOWN":
        return home
    urls: dict[str, str] = {}
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        urls.setdefault(label.strip().lower(), url.strip())
    for label in _HOME_LABELS:
        if urls.get(label):
            return urls[label]
    return next(iter(urls.values()), "")


@lru_cache(maxsize=1)
def installed_licenses() -> tuple[DistributionLicense, ...]:
    """Every distribution installed in this environment except the runner, sorted by name.

    A distribution found twice on ``sys.path`` is listed once, as the first one found (the one
    Python imports).
    """
    seen: dict[str, DistributionLicense] = {}
    for dist in metadata.distributions():
        meta = dist.metadata
        name = meta.get("Name")
        if not name:
            continue
        key = canonicalize_name(name)
        if key in seen or key == RUNNER_DISTRIBUTION:
            continue
        seen[key] = DistributionLicense(
            name, meta.get("Version") or "", _license_of(meta), _home_page_of(meta)
        )
    return tuple(sorted(seen.values(), key=lambda d: d.name.lower()))


def render_licenses(
    entries: tuple[DistributionLicense, ...] | list[DistributionLicense], fmt: str
) -> str:
    """``entries`` as text (aligned columns), JSON (as on ``/licenses/``) or a Markdown table."""
    if fmt == "json":
        return json.dumps([e.as_json() for e in entries], indent=2) + "\n"
    if fmt == "markdown":

        def cell(text: str) -> str:
            return text.replace("|", "\\|")

        rows = [
            f"| {cell(e.name)} | {cell(e.version)} | {cell(e.license)} | {cell(e.home_page)} |"
            for e in entries
        ]
        return (
            "\n".join(["| name | version | license | home page |", "|---|---|---|---|", *rows])
            + "\n"
        )
    if fmt != "text":
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    width = max((len(e.name) for e in entries), default=4)
    return "".join(f"{e.name:<{width}}  {e.version:<12}  {e.license}\n" for e in entries)
