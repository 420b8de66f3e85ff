"""Explanations: golden text for representative calls, plus checks that do not
rely on the golden files (sums add up, JSON-ready, HTML escaped)."""

import json

import pytest

import convarith

TORCH_CASES = {
    "torch_conv2d_dilated": ("nn.Conv2d(3, 8, 3, stride=2, dilation=2, padding=(1, 0))", (1, 3, 32, 31)),
    "torch_conv2d_unreached": ("nn.Conv2d(3, 8, 5, stride=3, padding=(1, 0))", (1, 3, 32, 31)),
    "torch_conv1d_same": ("nn.Conv1d(2, 4, 4, padding='same')", (1, 2, 10)),
    "torch_conv_transpose2d": ("nn.ConvTranspose2d(3, 8, 3, stride=2, padding=1, output_padding=1)", (1, 3, 32, 32)),
    "torch_conv_transpose1d_dilated": ("nn.ConvTranspose1d(3, 8, 3, stride=2, padding=3, dilation=2)", (1, 3, 10)),
    "torch_maxpool_ceil": ("nn.MaxPool2d(2, stride=2, padding=1, ceil_mode=True)", (1, 3, 5, 6)),
    "torch_adaptive_avg_pool": ("nn.AdaptiveAvgPool2d((5, 7))", (1, 3, 32, 31)),
}
KERAS_SEED = (("valid", 1), ("valid", 2), ("same", 1), ("same", 2), ("same", 3))
KERAS_SEED_SHAPES = ((1, 98, 130, 3), (1, 193, 257, 3), (1, 96, 128, 3), (1, 192, 256, 3), (1, 288, 384, 3))


def seed_expr(padding: str, strides: int) -> str:
    return f"keras.layers.Conv2DTranspose(filters=3, kernel_size=3, strides={strides}, padding={padding!r})"


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_torch_golden(golden, name):
    expr, shape = TORCH_CASES[name]
    golden(f"explain_{name}", str(convarith.explain(expr, shape)))


def test_keras_seed_golden(golden):
    shapes = tuple(convarith.output_shape(seed_expr(p, s), (1, 96, 128, 3)) for p, s in KERAS_SEED)
    assert shapes == KERAS_SEED_SHAPES
    texts = [str(convarith.explain(seed_expr(p, s), (1, 96, 128, 3))) for p, s in KERAS_SEED]
    golden("explain_keras_seed", "\n\n".join(texts))


def all_axes(explanation):
    for step in explanation.to_dict()["steps"]:
        yield from step["axes"]


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_to_dict_is_json_ready(name):
    expr, shape = TORCH_CASES[name]
    data = convarith.explain(expr, shape).to_dict()

    def plain(value):
        if isinstance(value, dict):
            return all(isinstance(key, str) and plain(item) for key, item in value.items())
        if isinstance(value, list):
            return all(plain(item) for item in value)
        return value is None or isinstance(value, (str, int, float, bool))

    assert plain(data)
    assert json.loads(json.dumps(data)) == data
    assert data["shape"] == list(convarith.output_shape(expr, shape))
    assert data["input_shape"] == list(shape)


@pytest.mark.parametrize("name", ["torch_conv_transpose2d", "torch_conv_transpose1d_dilated"])
def test_transposed_forward_view_and_textbook_add_up(name):
    expr, shape = TORCH_CASES[name]
    for facts in all_axes(convarith.explain(expr, shape)):
        forward = facts["as_forward"]
        stuffed = (facts["in"] - 1) * facts["stride"] + 1
        assert forward["dilated_input"] == stuffed
        assert stuffed + forward["pad_before"] + forward["pad_after"] - facts["effective_kernel"] + 1 == facts["out"]
        textbook = facts["textbook"]
        assert textbook["value"] == (facts["in"] - 1) * facts["stride"] + facts["kernel"] - 2 * facts["pad_before"]
        assert textbook["value"] + textbook["differs_by"] == facts["out"]


def test_textbook_names_the_differing_terms():
    expr, shape = TORCH_CASES["torch_conv_transpose2d"]
    text = str(convarith.explain(expr, shape))
    assert "textbook (n-1)*s + f - 2p = (32-1)*2 + 3 - 2*1 = 63; differs by +1: output_padding 1: +1" in text
    dilated = str(convarith.explain(*TORCH_CASES["torch_conv_transpose1d_dilated"]))
    assert "differs by +2: dilation 2 widens the kernel to 5: +2" in dilated


@pytest.mark.parametrize("name", ["torch_conv2d_dilated", "torch_conv2d_unreached"])
def test_unreached_cells_match_the_windows(name):
    expr, shape = TORCH_CASES[name]
    for facts in all_axes(convarith.explain(expr, shape)):
        touched = set()
        for j in range(facts["out"]):
            start = j * facts["stride"] - facts["pad_before"]
            touched.update(range(start, start + facts["effective_kernel"]))
        assert facts.get("unreached", []) == [i for i in range(facts["in"]) if i not in touched]
    assert any(facts.get("unreached") for facts in all_axes(convarith.explain(expr, shape))) == (
        name == "torch_conv2d_unreached"
    )


def test_repr_html_escapes():
    explanation = convarith.explain("nn.Conv1d(2, 4, 4, padding='same')", (1, 2, 10))
    html = explanation._repr_html_()
    assert html.startswith("<pre>") and html.endswith("</pre>")
    inner = html[len("<pre>") : -len("</pre>")]
    assert "<" not in inner and ">" not in inner and "'" not in inner
    assert "-&gt;" in inner and "&#x27;same&#x27;" in inner


def test_repr_is_short():
    assert (
        repr(convarith.explain("nn.Conv2d(3, 8, 3)", (1, 3, 8, 8)))
        == "<Explanation nn.Conv2d(3, 8, 3) -> (1, 8, 6, 6)>"
    )
