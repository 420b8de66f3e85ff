"""convarith.trace on torch nn.Modules (walked with torch.fx, no data): every layer's traced shape
against the real module's (forward hooks on every module, fx's ShapeProp for function nodes), at
several input sizes; torch's refusal of a size is a trace refusal or a mismatch; refusals."""

import pytest

from convarith import ConvArithError
from convarith.tracing import trace

pytestmark = pytest.mark.differential
torch = pytest.importorskip("torch")
nn, F = torch.nn, torch.nn.functional


class Net(nn.Module):
    """A stem, a residual branch, concatenations, a transposed conv beside an upsampling, padding, a head."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.pool = nn.MaxPool2d(3, 2, padding=1, ceil_mode=True)
        self.branch = nn.Conv2d(8, 8, 3, padding="same", dilation=2)
        self.up = nn.ConvTranspose2d(16, 4, 2, stride=2)
        self.ups = nn.Upsample(scale_factor=2, mode="nearest")
        self.pad = nn.ZeroPad2d((0, 1, 2, 0))
        self.avg = nn.AvgPool2d(3, stride=2, ceil_mode=True, count_include_pad=False, padding=1)
        self.shuffle = nn.PixelShuffle(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(3, 10)

    def forward(self, x):
        x = self.pool(self.stem(x))
        y = torch.cat([x, F.relu(self.branch(x)) + x], dim=1)
        z = self.pad(torch.cat([self.up(y), self.ups(x)], 1))
        return self.fc(torch.flatten(self.gap(self.shuffle(self.avg(z))), 1))


class Seq1d(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv1d(2, 4, 5, stride=3), nn.ReflectionPad1d(2), nn.MaxPool1d(2),
                                  nn.ConvTranspose1d(4, 2, 3, stride=2, output_padding=1), nn.Flatten())  # fmt: skip

    def forward(self, x):
        return self.body(x) * 2.0


def real_shapes(module, shape) -> dict:
    """Every module's and every function node's output shape when the module runs."""
    from torch.fx.passes.shape_prop import ShapeProp

    graph = torch.fx.symbolic_trace(module)
    ShapeProp(graph).propagate(torch.zeros(shape))
    found = {}
    for node in graph.graph.nodes:
        meta = node.meta.get("tensor_meta")
        if node.op != "output" and meta is not None:
            found[node.target if node.op == "call_module" else node.name] = tuple(meta.shape)
    hooked = {}

    def hook(name):
        def record(_module, _inputs, output):
            hooked[name] = tuple(output.shape)

        return record

    handles = [m.register_forward_hook(hook(name)) for name, m in module.named_modules() if name]
    with torch.no_grad():
        module(torch.zeros(shape))
    for handle in handles:
        handle.remove()
    assert {name: found[name] for name in hooked if name in found} == {n: hooked[n] for n in hooked if n in found}
    return found


@pytest.mark.parametrize(
    "make, shape",
    [(Net, (1, 3, 64, 64)), (Net, (2, 3, 45, 38)), (Net, (1, 3, 31, 97)), (Net, (1, 3, 17, 16)),
     (Seq1d, (1, 2, 40)), (Seq1d, (3, 2, 17))],
)  # fmt: skip
def test_modules_match_torch(make, shape):
    module = make().eval()
    try:
        want = real_shapes(module, shape)
    except RuntimeError as error:  # torch refuses the size: so does the trace, or it names the merge
        try:
            assert trace(module, shape).mismatches, error
        except ConvArithError as refusal:
            assert str(refusal).startswith("Layer '"), refusal
        return
    traced = trace(module, shape)
    assert not traced.mismatches
    assert {layer.name: layer.output_shape for layer in traced.layers} == want
    assert traced.params == sum(p.numel() for p in module.parameters())


def test_a_misaligned_cat_is_named():
    class Skip(nn.Module):
        def __init__(self):
            super().__init__()
            self.down, self.up = nn.Conv2d(1, 1, 3, stride=2), nn.ConvTranspose2d(1, 1, 3, stride=2)

        def forward(self, x):
            return torch.cat([x, self.up(self.down(x))], 1)

    traced = trace(Skip(), (1, 1, 12, 11))
    (mismatch,) = traced.mismatches
    assert (mismatch.layer, mismatch.axis, mismatch.sizes) == ("cat", 2, (12, 11))
    with pytest.raises(RuntimeError, match="Sizes of tensors must match"):
        Skip()(torch.zeros(1, 1, 12, 11))


def test_refusals():
    class View(nn.Module):
        def forward(self, x):
            return x.view(x.size(0), -1)

    with pytest.raises(ConvArithError, match="^Layer 'size': call_method 'size' is not one convarith traces"):
        trace(View(), (1, 3, 4, 4))

    class Branching(nn.Module):
        def forward(self, x):
            return x if x.sum() > 0 else -x

    with pytest.raises(ConvArithError, match="^torch module: torch.fx cannot trace it"):
        trace(Branching(), (1, 3, 4, 4))
    with pytest.raises(ConvArithError, match=r"^Layer '1' \(torch.Linear\): input \(1, 5\) has 5 features"):
        trace(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), (1, 5))


class Branches(nn.Module):
    """Strided, dilated and padded windows on two branches that an add merges (all-ones weights)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2, padding=1), nn.AvgPool2d(3, 2, padding=1))
        self.b = nn.Sequential(nn.Conv2d(1, 2, (9, 3), stride=4, padding=(4, 4), dilation=(1, 4)))
        self.c = nn.Conv2d(2, 1, 2)
        for p in self.parameters():
            nn.init.ones_(p)

    def forward(self, x):
        return self.c(self.a(x) + self.b(x))


@pytest.mark.parametrize("position", [(0, 0), (1, 2), (3, 1)])
def test_receptive_field_is_the_gradients_support(position):
    """The input cells with a nonzero gradient of one output are exactly the traced window."""
    module, shape = Branches(), (1, 1, 37, 41)
    traced = trace(module, shape)
    x = torch.ones(shape, requires_grad=True)
    module(x)[0, 0][position].backward()
    support = x.grad[0, 0].nonzero()
    layer = traced.layers[-1]
    for axis in range(2):
        jump, field, pad = layer.effective_stride[axis], layer.receptive_field[axis], layer.effective_padding[axis]
        lo = position[axis] * jump - pad
        want = (max(lo, 0), min(lo + field - 1, shape[axis + 2] - 1))
        assert (int(support[:, axis].min()), int(support[:, axis].max())) == want, axis


# torch's legacy (TorchScript) exporter, chosen on purpose for opset 17, warns about itself
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore:Constant folding:UserWarning")
@pytest.mark.parametrize("make, shape", [(Net, (1, 3, 45, 38)), (Branches, (1, 1, 37, 41)), (Seq1d, (2, 2, 40))])
def test_the_module_and_its_onnx_export_trace_alike(tmp_path, make, shape):
    """The same network read by torch.fx and from its ONNX export (Resize, DepthToSpace, Pad, ...):
    the same output shape, receptive field and parameter count (BatchNorm folded by the exporter)."""
    pytest.importorskip("onnx")
    module, path = make().eval(), tmp_path / "m.onnx"
    try:
        torch.onnx.export(module, (torch.zeros(shape),), str(path), dynamo=False, opset_version=17)
    except Exception as error:  # an exporter this torch build lacks
        pytest.skip(f"torch.onnx.export: {error}")
    if make is Net:  # found: the exporter writes padding='same' with dilation as auto_pad=SAME_UPPER and dilations,
        # which onnxruntime refuses (Dilation not supported for SAME_UPPER); the trace refuses it too
        from tests.differential.test_trace_onnx import runtime_shapes

        assert "Dilation not supported" in runtime_shapes(path, shape)["error"]
        with pytest.raises(ConvArithError, match=r"^Layer '/branch/Conv' \(onnx.Conv\).*Dilation not supported"):
            trace(path, shape)
        return
    by_fx, by_onnx = trace(module, shape), trace(path, shape)
    last_fx, last_onnx = by_fx.layers[-1], by_onnx.layers[-1]
    assert last_fx.output_shape == last_onnx.output_shape
    windows = [layer for layer in by_fx.layers if layer.receptive_field is not None]
    exported = [layer for layer in by_onnx.layers if layer.receptive_field is not None]
    assert windows[-1].receptive_field == exported[-1].receptive_field
    assert windows[-1].effective_padding == exported[-1].effective_padding
    folded = sum(m.weight.numel() * 4 for m in module.modules() if isinstance(m, nn.BatchNorm2d))
    assert by_fx.params - folded == by_onnx.params


class Functional(nn.Module):
    """A U-Net step in torch.nn.functional: pools, padding, interpolation, pixel shuffle."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        d = F.max_pool2d(x, 3, stride=2, ceil_mode=True)
        d = F.avg_pool2d(self.conv(d), 2, padding=1, count_include_pad=False)
        u = F.interpolate(d, scale_factor=2.5, mode="bilinear", align_corners=False)
        u = F.pad(u, (1, 0, 0, 2), mode="replicate")
        s = F.pixel_shuffle(torch.cat([u, u], 1), 2)
        return F.adaptive_max_pool2d(s, (3, 5))


@pytest.mark.parametrize("shape", [(1, 4, 20, 20), (2, 4, 33, 17), (1, 4, 9, 64)])
def test_functional_windows_match_torch(shape):
    module = Functional()
    traced = trace(module, shape)
    assert {layer.name: layer.output_shape for layer in traced.layers} == real_shapes(module, shape)
    assert traced["max_pool2d"].call.startswith("F.max_pool2d(x, 3, stride=2, ")  # fx adds the defaults


def test_a_computed_functional_argument_is_refused():
    class Computed(nn.Module):
        def forward(self, x):
            return F.interpolate(x, size=x.shape[2:])

    with pytest.raises(ConvArithError, match="^Layer 'getattr_1': call_function 'getattr' is not one convarith"):
        trace(Computed(), (1, 1, 4, 4))  # the size read from the tensor is the node refused

    class Scaled(nn.Module):
        def forward(self, x):
            return F.max_pool2d(x, 2, stride=F.relu(x))

    with pytest.raises(ConvArithError, match="^Layer 'max_pool2d' \\(F.max_pool2d\\): stride is computed"):
        trace(Scaled(), (1, 1, 4, 4))
