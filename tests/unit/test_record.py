"""core.record.Record: frozen value classes with defaults, equality, hashing and replace."""

from __future__ import annotations

import copy
import pickle

import pytest

from convarith.core.record import Record, replace


class Point(Record):
    x: int
    y: int = 0
    tags: tuple = ()

    def __post_init__(self) -> None:
        if not self.tags:
            object.__setattr__(self, "tags", (self.x,))


def test_fields_defaults_and_post_init():
    point = Point(1)
    assert (point.x, point.y, point.tags) == (1, 0, (1,))
    assert Point(1, y=2, tags=("a",)).tags == ("a",)
    assert repr(Point(1, 2)) == "Point(x=1, y=2, tags=(1,))"


def test_equality_and_hash_follow_the_fields():
    assert Point(1, 2) == Point(x=1, y=2) and hash(Point(1, 2)) == hash(Point(y=2, x=1))
    assert Point(1, 2) != Point(1, 3)
    assert Point(1) != (1, 0, (1,))


def test_frozen():
    point = Point(1)
    with pytest.raises(AttributeError):
        point.x = 2
    with pytest.raises(AttributeError):
        del point.y


def test_missing_unknown_and_extra_arguments_are_refused():
    for args, kwargs in (((), {}), ((1,), {"z": 1}), ((1, 2, 3, 4), {})):
        with pytest.raises(TypeError):
            Point(*args, **kwargs)


def test_replace_copy_and_pickle():
    point = Point(1, 2)
    assert replace(point, y=5) == Point(1, 5) and point.y == 2
    assert copy.deepcopy(point) == point and pickle.loads(pickle.dumps(point)) == point
