"""valid_sizes of whole models against the real framework: at the sizes it keeps, the framework runs the
model, every input row along the axis changes the output and a U-Net gives the size back; at the sizes
it rules out, the framework refuses, or some row changes nothing, or the size does not come back.
Keras models through the Keras worker (``rows`` in runners/keras.py), torch modules in this process."""

import gzip
import json
from pathlib import Path

import pytest

import convarith
from convarith.tracing import trace
from tests.differential.test_trace import UNET

pytestmark = pytest.mark.differential
ROOT = Path(__file__).parents[2]
APPS = json.loads(gzip.decompress((ROOT / "tests/fixtures/keras_apps.json.gz").read_bytes()))

MAX_POOL_UNET = """
C = lambda f, k=3: layers.Conv2D(f, k, padding="same")
x = keras.Input((None, None, 1))
e1 = C(2)(x)
e2 = C(2)(layers.MaxPooling2D(2)(e1))
m = C(2)(layers.MaxPooling2D(3, strides=2, padding="same")(e2))
d2 = C(2)(layers.Concatenate()([layers.UpSampling2D(2)(m), e2]))
d1 = C(2)(layers.Add()([layers.Conv2DTranspose(2, 3, strides=2, padding="same")(d2), e1]))
model = keras.Model(x, C(1, 1)(d1))
"""


def sized(shape, axis, n):
    return tuple(n if i == axis else size for i, size in enumerate(shape))


def picked(found, sizes):
    """A few kept sizes and a few ruled out (the neighbours of kept ones first)."""
    kept = [n for n in found.sizes if n in sizes]
    out = [n for n in sizes if n not in found.sizes]
    near = [n for n in out if n - 1 in kept or n + 1 in kept]
    return kept[:4] + kept[-1:], (near[:4] + out[:2] + out[-1:])


def keras_agrees(keras, text, shape, axis, n, kept, round_trip) -> bool:
    answer = keras.run({"rows": True, "model_json": text, "input_shape": sized(shape, axis, n), "axis": axis})
    whole = "error" not in answer and all(answer["reached"])
    if whole and round_trip:
        whole = answer["shape"][axis] == n
    assert whole == kept, (n, answer)
    return True


@pytest.mark.parametrize("code", [UNET, MAX_POOL_UNET], ids=["avg-pool", "max-pool"])
@pytest.mark.parametrize("axis", [1, 2])
def test_keras_unets(oracle, code, axis):
    keras = oracle("keras")
    text = keras.run({"model_code": code})["json"]
    sizes = range(1, 49)
    found = convarith.valid_sizes(text, (1, 32, 32, 1), axis=axis, sizes=sizes)
    assert found.round_trip
    kept, out = picked(found, sizes)
    for n in kept + out:
        assert keras_agrees(keras, text, (1, 12, 12, 1), axis, n, n in found.sizes, True)


# keras.applications from the fixture: sizes kept and ruled out by the cells alone (every merge lines up)
APPLICATIONS = [("Xception", (1, 9, 9, 3), range(7, 40)), ("ResNet50", (1, 8, 1, 3), range(1, 40)),
                ("ConvNeXtTiny", (1, 32, 32, 3), range(32, 50))]  # fmt: skip


@pytest.mark.parametrize(("name", "shape", "sizes"), APPLICATIONS, ids=[a[0] for a in APPLICATIONS])
def test_keras_applications_rows(oracle, name, shape, sizes):
    keras = oracle("keras")
    text = APPS[name]["json"]
    found = convarith.valid_sizes(text, shape, axis=1, sizes=sizes)
    kept, out = picked(found, sizes)
    for n in kept[:2] + out[:2]:
        assert keras_agrees(keras, text, shape, 1, n, n in found.sizes, False)


torch = pytest.importorskip("torch")
nn = torch.nn


class TorchUNet(nn.Module):
    """Two levels: max pool and strided conv down, transposed conv and bilinear upsampling up, cat and add."""

    def __init__(self):
        super().__init__()
        self.e1 = nn.Conv2d(1, 2, 3, padding=1)
        self.down1 = nn.MaxPool2d(2)
        self.e2 = nn.Conv2d(2, 2, 3, padding=1)
        self.down2 = nn.Conv2d(2, 2, 3, stride=2, padding=1)
        self.up2 = nn.ConvTranspose2d(2, 2, 2, stride=2)
        self.up1 = nn.Upsample(scale_factor=2, mode="bilinear")
        self.head = nn.Conv2d(4, 1, 1)
        for name, p in self.named_parameters():
            nn.init.constant_(p, 0.0 if name.endswith("bias") else 1.0 / p[0].numel())

    def forward(self, x):
        e1 = self.e1(x)
        e2 = self.e2(self.down1(e1))
        d2 = self.up2(self.down2(e2)) + e2
        return self.head(torch.cat([self.up1(d2), e1], 1))


def torch_whole(module, shape, axis, n) -> bool:
    """Torch runs the module at size n, gives n back, and every input row changes the output."""
    shape = sized(shape, axis, n)
    x = torch.rand((1, *shape[1:]), generator=torch.Generator().manual_seed(n), dtype=torch.float64) + 1
    x = x.repeat(n + 1, *[1] * (len(shape) - 1))
    for row in range(n):
        index = [slice(None)] * len(shape)
        index[0], index[axis] = row + 1, row
        x[tuple(index)] += 100
    try:
        with torch.no_grad():
            y = module.double()(x)
    except RuntimeError:  # torch refuses the size: the cat or add does not line up
        return False
    flat = y.reshape(n + 1, -1)
    return y.shape[axis] == n and all(bool((flat[row + 1] != flat[0]).any()) for row in range(n))


@pytest.mark.parametrize("axis", [2, 3])
def test_torch_unet(axis):
    module, sizes = TorchUNet().eval(), range(1, 41)
    found = convarith.valid_sizes(module, (1, 1, 16, 16), axis=axis, sizes=sizes)
    assert found.rule == "n ≡ 0 (mod 4), n ≥ 4"
    assert [n for n in sizes if torch_whole(module, (1, 1, 8, 8), axis, n)] == found.sizes


class Skip(nn.Module):
    """A skip connection of a stride-3 conv and its transposed conv: they line up for n ≡ 2 (mod 3)."""

    def __init__(self):
        super().__init__()
        self.down, self.up = nn.Conv2d(1, 2, 2, stride=3), nn.ConvTranspose2d(2, 1, 2, stride=3)

    def forward(self, x):
        return torch.cat([x, self.up(self.down(x))], 1)


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore:Constant folding:UserWarning")
def test_channels_first_skip_connection_fix_names_sizes_torch_and_onnxruntime_take(tmp_path):
    """The "input sizes that line every merge up" of a torch module and its ONNX export (channels first):
    torch and onnxruntime run the sizes named, and refuse the one traced."""
    from tests.differential.test_trace_onnx import runtime_shapes

    pytest.importorskip("onnx")
    module, shape = Skip().eval(), (1, 1, 12, 11)
    path = tmp_path / "skip.onnx"
    try:
        torch.onnx.export(module, (torch.zeros(1, 1, 14, 14),), str(path), dynamo=False, opset_version=17,
                          dynamic_axes={"x": {2: "h", 3: "w"}}, input_names=["x"])  # fmt: skip
    except Exception as error:  # an exporter this torch build lacks
        pytest.skip(f"torch.onnx.export: {error}")
    for model in (module, path):
        traced = trace(model, shape)
        (first, *_) = traced.mismatches
        assert first.axis == 2 and "lines every merge up: 11 or 14 (n ≡ 2 (mod 3), n ≥ 2" in str(first), first
        assert convarith.valid_sizes(model, (1, 1, 14, 14), axis=2, sizes=range(1, 30)).sizes == list(range(2, 30, 3))
    with pytest.raises(RuntimeError, match="Sizes of tensors must match"):
        module(torch.zeros(shape))
    assert "error" in runtime_shapes(path, shape)
    for n in (11, 14):
        assert tuple(module(torch.zeros(1, 1, n, 14)).shape) == (1, 2, n, 14)
        assert "error" not in runtime_shapes(path, (1, 1, n, 14))
