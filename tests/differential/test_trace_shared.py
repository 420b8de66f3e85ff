"""Shared layers traced per call site: a Keras layer called twice (inbound_nodes with several nodes) and
a torch module called twice (fx), each call its own row ('conv1', 'conv1 (2)'), shapes against the framework."""

import pytest

import convarith
from convarith.tracing import trace

pytestmark = pytest.mark.differential

SHARED = """
x = keras.Input((None, None, 2))
conv = layers.Conv2D(2, 3, padding="same", name="conv1")
pool = layers.MaxPooling2D(2, name="pool")
a = conv(x)
b = conv(pool(a))
c = conv(pool(b))
u = layers.UpSampling2D(2, name="up")(c)
y = layers.Concatenate(name="cat")([b, u])
model = keras.Model(x, layers.Add(name="add")([a, layers.Conv2DTranspose(2, 2, strides=2, name="t")(y)]))
"""


@pytest.mark.parametrize("shape", [(1, 32, 32, 2), (2, 20, 44, 2), (1, 12, 8, 2), (1, 13, 16, 2)])
def test_keras_shared_layer_calls_match_keras(oracle, shape):
    keras = oracle("keras")
    text = keras.run({"model_code": SHARED})["json"]
    want = keras.run({"call_shapes": True, "model_json": text, "input_shape": shape})
    traced = trace(text, shape)
    rows = [layer.name for layer in traced.layers]
    assert rows.count("conv1") == rows.count("conv1 (2)") == rows.count("conv1 (3)") == 1
    assert rows.count("pool (2)") == 1 and traced["conv1 (3)"].inbound == ("pool (2)",)
    if "error" in want or traced.mismatches:  # 13 rows: the cat of 6 and 6 is fine, the add of 13 and 12 is not
        assert traced.mismatches and traced.mismatches[0].layer == "add" and shape[1] == 13, want
        return
    got = {layer.name: layer.output_shape for layer in traced.layers}
    assert got == {name: tuple(s) for name, s in want["shapes"].items()}
    assert traced.params == 2 * 2 * 9 + 2 + 4 * 2 * 4 + 2  # the shared conv counted once
    assert convarith.valid_sizes(text, shape, axis=1, sizes=range(1, 41)).sizes == list(range(4, 41, 4))


torch = pytest.importorskip("torch")
nn = torch.nn


class Shared(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 2, 3, padding=1)
        self.pool = nn.MaxPool2d(2, ceil_mode=True)
        self.up = nn.ConvTranspose2d(2, 2, 2, stride=2)

    def forward(self, x):
        a = self.conv1(x)
        b = self.conv1(self.pool(a))
        return torch.cat([a, self.up(self.conv1(b))], 1)


@pytest.mark.parametrize("shape", [(1, 2, 16, 16), (1, 2, 10, 6), (2, 2, 9, 12)])
def test_torch_module_called_twice_matches_torch(shape):
    from torch.fx.passes.shape_prop import ShapeProp

    module = Shared().eval()
    graph = torch.fx.symbolic_trace(module)
    try:
        ShapeProp(graph).propagate(torch.zeros(shape))
    except RuntimeError:  # 9 rows: pooled to 5 and back to 10, the cat refuses
        assert trace(module, shape).mismatches[0].layer == "cat"
        return
    calls: dict = {}
    want = {}
    for node in graph.graph.nodes:
        if node.op == "call_module":
            calls[node.target] = calls.get(node.target, 0) + 1
            name = node.target if calls[node.target] == 1 else f"{node.target} ({calls[node.target]})"
            want[name] = tuple(node.meta["tensor_meta"].shape)
    traced = trace(module, shape)
    got = {layer.name: layer.output_shape for layer in traced.layers if layer.name in want}
    assert got == want and "conv1 (3)" in got
    assert traced.params == sum(p.numel() for p in module.parameters())
