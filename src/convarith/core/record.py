"""``Record``: the frozen value classes (ConvOp, Mapped, Call, ...) without ``dataclasses``.

Importing ``dataclasses`` imports ``inspect`` (with ``dis``, ``tokenize`` and more),
about a fifth of the ``convarith`` command's start-up. A record's fields are its
class annotations, in order; a class attribute of the same name is the field's
default. Records compare and hash by their fields, refuse attribute assignment,
and run ``__post_init__`` (if any) after ``__init__``.
"""

from __future__ import annotations

__all__ = ["Record", "replace"]


class Record:
    """Base of a frozen record; see the module docstring."""

    _fields: tuple[str, ...] = ()
    _field_set: frozenset = frozenset()
    _defaults: dict = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        fields = [name for base in reversed(cls.__mro__) for name in vars(base).get("__annotations__", {})]
        cls._fields = tuple(name for name in dict.fromkeys(fields) if not name.startswith("_"))
        cls._field_set = frozenset(cls._fields)
        cls._defaults = {name: getattr(cls, name) for name in cls._fields if hasattr(cls, name)}

    def __init__(self, *args, **kwargs) -> None:
        if len(args) > len(self._fields):
            raise TypeError(f"{type(self).__name__} takes {len(self._fields)} arguments, got {len(args)}")
        values = dict(self._defaults)
        values.update(zip(self._fields, args))
        values.update(kwargs)
        if len(values) != len(self._fields) or not values.keys() <= self._field_set:
            wrong = sorted(set(values).symmetric_difference(self._fields))
            raise TypeError(f"{type(self).__name__}: missing or unknown fields {wrong}")
        object.__setattr__(self, "__dict__", values)
        if hasattr(self, "__post_init__"):
            self.__post_init__()

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: {type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: {type(self).__name__} is frozen")

    def _values(self) -> tuple:
        return tuple(self.__dict__[name] for name in self._fields)

    def __eq__(self, other) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        items = ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self._values()))
        return f"{type(self).__name__}({items})"


def replace(record: Record, **changes) -> Record:
    """A copy of ``record`` with some fields changed (``__post_init__`` runs again)."""
    return type(record)(**{**record.__dict__, **changes})
