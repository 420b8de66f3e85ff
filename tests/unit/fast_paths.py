"""The check every framework's fast shape path is held to: plan.shape equals plan.map's shape,
or both refuse with the same message."""

import pytest

from convarith import ConvArithError


def assert_fast_path_agrees(plan, inputs) -> None:
    try:
        fast = plan.shape(inputs)
    except ConvArithError as exc:
        with pytest.raises(ConvArithError) as info:
            plan.map(inputs)
        assert str(info.value) == str(exc)
    else:
        assert fast == plan.map(inputs).output_shape
