"""Receptive fields through bilinear and nearest upsampling (nn.Upsample, F.interpolate, Keras UpSampling2D),
adaptive pools, and Flatten/Reshape (every output sees the whole input), checked empirically: with all-ones
weights the input cells with a nonzero gradient of one output are exactly Trace.window's (clipped to the input)."""

import pytest

from convarith.tracing import trace

pytestmark = pytest.mark.differential
torch = pytest.importorskip("torch")
nn, F = torch.nn, torch.nn.functional


class Sampled(nn.Module):
    def __init__(self, mode, align):
        super().__init__()
        self.mode, self.align = mode, align
        self.down = nn.Conv2d(1, 1, 3, stride=2, padding=1)
        self.up = nn.Upsample(scale_factor=2, mode=mode, **({} if mode == "nearest" else {"align_corners": align}))
        self.conv = nn.Conv2d(1, 1, 3)
        self.pool = nn.AdaptiveAvgPool2d((7, 5))
        self.head = nn.Conv2d(1, 1, 2)
        for p in self.parameters():
            nn.init.ones_(p)

    def forward(self, x):
        y = self.conv(self.up(self.down(x)))
        kwargs = {} if self.mode == "nearest" else {"align_corners": self.align}
        y = F.interpolate(y, scale_factor=1.5, mode=self.mode, **kwargs)
        return self.head(self.pool(y))


def support(module, shape, layer_output, position):
    """The (first, last) input cell per spatial axis with a nonzero gradient of one output cell."""
    x = torch.ones(shape, requires_grad=True)
    layer_output(module, x)[(0, 0, *position)].backward()
    cells = x.grad[0, 0].nonzero()
    return tuple((int(cells[:, axis].min()), int(cells[:, axis].max())) for axis in range(len(position)))


def clipped(window, shape):
    return tuple((max(lo, 0), min(hi, n - 1)) for (lo, hi), n in zip(window, shape[2:]))


def upto(name):
    """The module's output at one of its layers (the fx names of the trace)."""

    def run(module, x):
        y = module.conv(module.up(module.down(x)))
        if name == "conv":
            return y
        kwargs = {} if module.mode == "nearest" else {"align_corners": module.align}
        y = F.interpolate(y, scale_factor=1.5, mode=module.mode, **kwargs)
        return y if name == "interpolate" else module.pool(y) if name == "pool" else module.head(module.pool(y))

    return run


@pytest.mark.parametrize(("mode", "align"), [("bilinear", False), ("bilinear", True), ("nearest", None)])
@pytest.mark.parametrize("name", ["conv", "interpolate", "pool", "head"])
def test_windows_are_the_gradients_support(mode, align, name):
    module, shape = Sampled(mode, align), (1, 1, 29, 23)
    traced = trace(module, shape)
    layer = traced[name]
    checked = 0
    rows, cols = layer.output_shape[2:]
    for i in range(0, rows, max(1, rows // 5)):
        for j in range(0, cols, max(1, cols // 3)):
            assert support(module, shape, upto(name), (i, j)) == clipped(traced.window(name, (i, j)), shape), (i, j)
            checked += 1
    assert checked >= 6
    spans = [hi - lo + 1 for i in range(layer.output_shape[2]) for lo, hi in [traced.window(name, (i, 0))[0]]]
    assert layer.receptive_field[0] >= max(spans[2:-2])  # the field bounds every inner window


def test_flatten_sees_the_whole_input():
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3, stride=3)
            self.fc = nn.Linear(4 * 3, 2)
            for p in self.parameters():
                nn.init.ones_(p)

        def forward(self, x):
            return self.fc(torch.flatten(self.conv(x), 1))

    module, shape = Head(), (1, 1, 13, 10)
    traced = trace(module, shape)
    x = torch.ones(shape, requires_grad=True)
    module(x)[0, 1].backward()
    cells = x.grad[0, 0].nonzero()
    got = tuple((int(cells[:, a].min()), int(cells[:, a].max())) for a in range(2))
    assert got == clipped(traced.window("fc", (0, 0)), shape) == ((0, 11), (0, 8))  # the conv's 4x3 windows
    assert "the whole input" in traced["flatten"].note and traced["fc"].receptive_field == (12, 9)


BILINEAR = """
model = keras.Sequential([
    keras.Input((31, 26, 1)),
    layers.Conv2D(1, 3, strides=2, padding="same"), layers.UpSampling2D(2, interpolation="bilinear"),
    layers.Conv2D(1, 3), layers.UpSampling2D((3, 2), interpolation="nearest"), layers.Conv2D(1, 2, strides=2),
    layers.Flatten(), layers.Dense(2),
])
"""


@pytest.mark.parametrize("index", [(0, 0), (2, 1), (5, 3), ("flat",)])
def test_keras_upsampling_and_flatten_windows_are_the_gradients_support(oracle, index):
    keras = oracle("keras")
    built = keras.run({"model_code": BILINEAR})
    cut = json_upto(built["json"], 5 if index != ("flat",) else 7)
    shape = (1, 31, 26, 1)
    traced = trace(cut, shape)
    last = traced.layers[-1]
    position = (0,) if index == ("flat",) else index
    answer = keras.run({"model_json": cut, "input_shape": shape, "gradient": position})
    rows = [cell[0] for cell in answer["nonzero"]]
    cols = [cell[1] for cell in answer["nonzero"]]
    window = traced.window(last.name, (0, 0) if index == ("flat",) else index)
    assert ((min(rows), max(rows)), (min(cols), max(cols))) == clipped(window, (1, 1, *shape[1:3]))


def json_upto(text, count):
    """The Sequential model's JSON with its first ``count`` layers."""
    import json

    config = json.loads(text)
    config["config"]["layers"] = config["config"]["layers"][: count + 1]
    return json.dumps(config)
