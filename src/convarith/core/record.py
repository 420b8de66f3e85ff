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
    _required: int = 0  # the fields without a default, which come first
    _template: dict = {}  # every field in order, its default or None

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        fields = [name for base in reversed(cls.__mro__) for name in vars(base).get("__annotations__", {})]
        cls._fields = tuple(name for name in dict.fromkeys(fields) if not name.startswith("_"))
        cls._required = sum(not hasattr(cls, name) for name in cls._fields)
        if any(not hasattr(cls, name) for name in cls._fields[cls._required :]):
            raise TypeError(f"{cls.__name__}: a field without a default follows one with a default")
        cls._template = {name: getattr(cls, name, None) for name in cls._fields}

    def __init__(self, *args, **kwargs) -> None:
        fields = self._fields
        if len(args) > len(fields):
            raise TypeError(f"{type(self).__name__} takes {len(fields)} arguments, got {len(args)}")
        values = self._template.copy()  # in field order, so equal records hash alike
        values.update(zip(fields, args))
        values.update(kwargs)
        if len(args) < self._required and any(name not in kwargs for name in fields[len(args) : self._required]):
            missing = [name for name in fields[len(args) : self._required] if name not in kwargs]
            raise TypeError(f"{type(self).__name__}: missing fields {missing}")
        if len(values) != len(fields):
            raise TypeError(f"{type(self).__name__}: unknown fields {sorted(set(values) - set(fields))}")
        object.__setattr__(self, "__dict__", values)
        if hasattr(self, "__post_init__"):
            self.__post_init__()

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: {type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: {type(self).__name__} is frozen")

    def _values(self) -> tuple:
        return tuple(self.__dict__.values())

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
