# SPDX-License-Identifier: Apache-2.0
"""The database extension objects, created unbound (public: ``DB``, ``MIGRATE``, ``REGISTRY``).

Models are SQLAlchemy mapped dataclasses: constructors take dataclass-ordered arguments,
which existing plugins rely on.
"""

from __future__ import annotations

from blinker import Namespace
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, MappedAsDataclass

from .lazy_migrate import LazyMigrate

__all__ = ["DB", "MODEL", "REGISTRY", "MIGRATE", "DB_SIGNALS", "NAMING_CONVENTION"]

NAMING_CONVENTION = {
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}


class _Base(MappedAsDataclass, DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


DB = SQLAlchemy(model_class=_Base)
MODEL = DB.Model
REGISTRY = MODEL.registry
MIGRATE = LazyMigrate()  # flask_migrate.Migrate, imported on first use
DB_SIGNALS = Namespace()
