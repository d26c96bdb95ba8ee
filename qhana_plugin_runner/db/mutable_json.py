# SPDX-License-Identifier: Apache-2.0
"""A JSON column whose nested dicts and lists report in-place changes.

Unlike ``sqlalchemy.ext.mutable``, any JSON value may be stored (dict, list, str, number,
bool, None); only containers are tracked. A change anywhere below the column value (for example
``task.data["a"]["b"].append(1)``) marks the attribute modified, so the next commit saves it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON, event
from sqlalchemy.orm import Mapper, attributes
from sqlalchemy.types import TypeDecorator

__all__ = ["MutableJSON", "TrackedDict", "TrackedList"]

OnChange = Callable[[], None]


def _owner(on_change: OnChange | None) -> OnChange | None:
    """The column callback a change callback ends at (walks up through the parent containers)."""
    while isinstance(getattr(on_change, "__self__", None), TrackedDict | TrackedList):
        on_change = on_change.__self__._on_change  # type: ignore[union-attr]
    return on_change


def _track(value: Any, on_change: OnChange | None) -> Any:
    if isinstance(value, TrackedDict | TrackedList):
        if value._on_change is None or _owner(value._on_change) == _owner(on_change):
            value._on_change = on_change  # moved within one column value: keep the object
            return value
        # Tracked for another row's column: store a copy. Sharing the object would report a
        # change made through either row to only one of them, and the other would lose it.
        value = dict(value) if isinstance(value, dict) else list(value)
    if isinstance(value, dict):
        return TrackedDict(value, on_change)
    if isinstance(value, list):
        return TrackedList(value, on_change)
    return value


class TrackedDict(dict):  # type: ignore[type-arg]
    """A dict that calls its owner's change callback on every mutation, nested ones included."""

    def __init__(self, value: dict[Any, Any] | None = None, on_change: OnChange | None = None):
        self._on_change = on_change
        super().__init__({k: _track(v, self._changed) for k, v in (value or {}).items()})

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, _track(value, self._changed))
        self._changed()

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self._changed()

    def clear(self) -> None:
        super().clear()
        self._changed()

    def pop(self, *args: Any) -> Any:
        result = super().pop(*args)
        self._changed()
        return result

    def popitem(self) -> Any:
        result = super().popitem()
        self._changed()
        return result

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            super().__setitem__(key, _track(value, self._changed))
        self._changed()

    def __ior__(self, other: Any) -> TrackedDict:  # type: ignore[override]
        self.update(other)
        return self

    def __reduce__(self) -> Any:
        return (dict, (dict(self),))


class TrackedList(list):  # type: ignore[type-arg]
    """A list that calls its owner's change callback on every mutation, nested ones included."""

    def __init__(self, value: list[Any] | None = None, on_change: OnChange | None = None):
        self._on_change = on_change
        super().__init__(_track(v, self._changed) for v in (value or []))

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            value = [_track(v, self._changed) for v in value]
        else:
            value = _track(value, self._changed)
        super().__setitem__(index, value)
        self._changed()

    def __delitem__(self, index: Any) -> None:
        super().__delitem__(index)
        self._changed()

    def __iadd__(self, other: Any) -> TrackedList:  # type: ignore[override]
        self.extend(other)
        return self

    def __imul__(self, count: Any) -> TrackedList:  # type: ignore[override]
        super().__imul__(count)
        self._changed()
        return self

    def append(self, value: Any) -> None:
        super().append(_track(value, self._changed))
        self._changed()

    def extend(self, values: Any) -> None:
        super().extend(_track(v, self._changed) for v in values)
        self._changed()

    def insert(self, index: Any, value: Any) -> None:
        super().insert(index, _track(value, self._changed))
        self._changed()

    def pop(self, *args: Any) -> Any:
        result = super().pop(*args)
        self._changed()
        return result

    def remove(self, value: Any) -> None:
        super().remove(value)
        self._changed()

    def clear(self) -> None:
        super().clear()
        self._changed()

    def sort(self, *args: Any, **kwargs: Any) -> None:
        super().sort(*args, **kwargs)
        self._changed()

    def reverse(self) -> None:
        super().reverse()
        self._changed()

    def __reduce__(self) -> Any:
        return (list, (list(self),))


class MutableJSON(TypeDecorator[Any]):
    """JSON column type; attributes of this type track nested in-place changes."""

    impl = JSON
    cache_ok = True


class _Flagger:
    """Marks one column attribute of one row modified; equal for the same row and column.

    It holds the row strongly on purpose: the session's identity map holds unmodified objects
    only weakly, so in ``ProcessingTask.get_by_id(1).data["k"] = v`` the task would be collected
    before the change is flagged, and the change silently lost. The cycle (row → value →
    flagger → row) is freed by the garbage collector once both are unreachable.
    """

    __slots__ = ("instance", "key")

    def __init__(self, instance: Any, key: str) -> None:
        self.instance = instance
        self.key = key

    def __call__(self) -> None:
        attributes.flag_modified(self.instance, self.key)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Flagger):
            return NotImplemented
        return other.instance is self.instance and other.key == self.key

    def __hash__(self) -> int:
        return hash((id(self.instance), self.key))


def _instrument(mapper: Mapper[Any], class_: type) -> None:
    keys = [
        prop.key
        for prop in mapper.column_attrs
        if any(isinstance(col.type, MutableJSON) for col in prop.columns)
    ]
    for key in keys:
        attribute = getattr(class_, key)

        def on_set(target: Any, value: Any, oldvalue: Any, initiator: Any, key: str = key) -> Any:
            return _track(value, _Flagger(target, key))

        event.listen(attribute, "set", on_set, retval=True)

    if not keys:
        return

    def wrap_loaded(target: Any, *args: Any) -> None:
        state = attributes.instance_state(target)
        for key in keys:
            if key in state.dict:
                state.dict[key] = _track(state.dict[key], _Flagger(target, key))

    event.listen(class_, "load", wrap_loaded, propagate=True)
    event.listen(class_, "refresh", wrap_loaded, propagate=True)


event.listen(Mapper, "mapper_configured", _instrument)
