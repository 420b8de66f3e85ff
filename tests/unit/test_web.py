"""The local page's server: its JSON answers equal the library's, its bounds hold, it runs
no code from a request, and it binds loopback unless told otherwise."""

import io
import os

import numpy as np
import pytest
from starlette.testclient import TestClient  # the web extra is part of the test extra: never skipped

import convarith
from convarith.api import map_call
from convarith.web import handlers, knobs
from convarith.web.app import create_app

SEED = "keras.layers.Conv2DTranspose(filters=3, kernel_size=3, strides=2, padding='same')"


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(), base_url="http://127.0.0.1")


def test_shape_is_the_library_answer(client):
    answer = client.get("/api/shape", params={"expr": SEED, "input": "1,96,128,3"}).json()
    assert answer["shape"] == [1, 192, 256, 3] == list(convarith.output_shape(SEED, (1, 96, 128, 3)))
    assert answer["explanation"] == convarith.explain(SEED, (1, 96, 128, 3)).to_dict()
    assert answer["text"] == str(convarith.explain(SEED, (1, 96, 128, 3)))
    assert answer["framework"] == "Keras"


def test_named_shapes_and_output_size(client):
    answer = client.get(
        "/api/shape", params={"expr": "F.conv2d(x, w, stride=2)", "shapes": "x=1,3,9,9; w=8,3,3,3"}
    ).json()
    assert answer["shape"] == [1, 8, 4, 4]
    expr = "nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1)"
    answer = client.get("/api/shape", params={"expr": expr, "input": "1,16,7,6", "output_size": "14,12"}).json()
    assert answer["shape"] == [1, 8, 14, 12]


def test_refusal_is_a_400_with_the_library_message(client):
    expr = "nn.Conv2d(3, 8, 3, stride=2, padding='same')"
    response = client.get("/api/shape", params={"expr": expr, "input": "1,3,9,9"})
    assert response.status_code == 400
    with pytest.raises(convarith.ConvArithError) as refused:
        convarith.output_shape(expr, (1, 3, 9, 9))
    assert response.json() == {"error": " ".join(str(refused.value).split())}


@pytest.mark.parametrize(
    "expr",
    [
        "__import__('os').system('touch {marker}')",
        "nn.Conv2d(3, 8, open('{marker}', 'w'))",
        "(lambda: open('{marker}', 'w'))()",
        "nn.Conv2d(3, 8, 3)[0].__class__",
    ],
)
def test_code_in_a_request_never_runs(client, tmp_path, expr):
    marker = tmp_path / "ran"
    for path in ("/api/shape", "/api/draw", "/api/edit", "/api/cell"):
        response = client.get(path, params={"expr": expr.format(marker=marker), "input": "1,3,9,9"})
        assert response.status_code == 400, (path, response.text)
        assert "error" in response.json()
    assert not marker.exists()


def test_bounds(client):
    assert client.get("/api/shape", params={"expr": "nn.Conv2d(3, 8, 3)" + " " * handlers.MAX_EXPR}).status_code == 400
    assert client.get("/api/shape", params={"expr": "x" * (handlers.MAX_QUERY + 1)}).status_code == 413
    big = b"\0" * (handlers.MAX_BODY + 1)
    response = client.post("/api/cell", params={"expr": "nn.Conv2d(3, 8, 3)", "input": "1,3,9,9"}, content=big)
    assert response.status_code == 413
    assert client.get("/api/shape", params={"expr": ""}).status_code == 400
    assert client.get("/api/shape", params={"expr": "nn.Conv2d(3, 8, 3)", "input": "1,3,x"}).status_code == 400


def test_only_loopback_host_names(client):
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"host": "localhost:8000"}).status_code == 200


def test_page_and_static_files(client):
    page = client.get("/").text
    for element in ('id="expr"', 'id="input"', 'id="shape"', 'id="explanation"', 'id="drawing"', 'id="error"'):
        assert element in page
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/../handlers.py").status_code == 404


def test_cell_positions_random_and_upload(client):
    expr, shape = "nn.Conv2d(3, 8, 3, 2)", (1, 3, 9, 9)
    positions = client.get("/api/cell", params={"expr": expr, "input": "1,3,9,9", "at": "1,2"}).json()
    assert positions["index"] == [0, 0, 1, 2]
    assert len(positions["worksheet"]["terms"]) == 27
    assert "input_value" not in positions["worksheet"]["terms"][0]
    random = client.get("/api/cell", params={"expr": expr, "input": "1,3,9,9", "at": "1,2", "values": "random"}).json()
    assert random["worksheet"]["agrees"] and "equals forward" in random["text"]
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    buffer = io.BytesIO()
    np.save(buffer, x)
    uploaded = client.post(
        "/api/cell", params={"expr": expr, "input": "1,3,9,9", "at": "1,2"}, content=buffer.getvalue()
    )
    terms = uploaded.json()["worksheet"]["terms"]
    assert [t["input_value"] for t in terms[:3]] == [float(x[0, 0, 2, 4]), float(x[0, 0, 2, 5]), float(x[0, 0, 2, 6])]
    wrong = io.BytesIO()
    np.save(wrong, np.zeros((1, 3, 8, 8), np.float32))
    assert (
        client.post("/api/cell", params={"expr": expr, "input": "1,3,9,9"}, content=wrong.getvalue()).status_code == 400
    )


def test_random_values_are_bounded(client):
    response = client.get(
        "/api/cell", params={"expr": "nn.Conv2d(3, 8, 3)", "input": "64,3,4096,4096", "values": "random"}
    )
    assert response.status_code == 400
    assert "random" in response.json()["error"]


EDITS = [
    # (call, input or named shapes, argument, new value)
    ("nn.Conv2d(3, 8, 3, 2)", {"input_shape": (1, 3, 16, 16)}, "stride", "3"),
    ("nn.Conv2d(3, 8, 3, 2)", {"input_shape": (1, 3, 16, 16)}, "padding", "(1, 2)"),
    ("nn.Conv2d(3, 8, kernel_size=3,)", {"input_shape": (1, 3, 16, 16)}, "dilation", "2"),
    ("keras.layers.Conv2D(8, 3, strides=2)", {"input_shape": (1, 16, 16, 3)}, "padding", "'same'"),
    ("keras.layers.MaxPooling2D(2)", {"input_shape": (1, 16, 16, 3)}, "pool_size", "3"),
    ("F.conv2d(x, w, None, 2)", {"shapes": {"x": (1, 3, 9, 9), "w": (8, 3, 3, 3)}}, "stride", "(1, 2)"),
    ("lax.conv_general_dilated(x, w, (1, 1), 'SAME')", {"shapes": {"x": (1, 3, 9, 9), "w": (8, 3, 3, 3)}},
     "window_strides", "(2, 2)"),
    ("lax.conv_general_dilated(x, w, (1, 1), 'SAME', None, (2, 2))", {"shapes": {"x": (1, 3, 9, 9), "w": (8, 3, 3, 3)}},
     "rhs_dilation", "(3, 3)"),
    ("tf.nn.conv2d(x, w, 2, 'SAME')", {"shapes": {"x": (1, 9, 9, 3), "w": (3, 3, 3, 8)}}, "strides", "3"),
    ("onnx.helper.make_node('MaxPool', ['X'], ['Y'], kernel_shape=[2, 2])", {"shapes": {"X": (1, 3, 9, 9)}},
     "strides", "[2, 2]"),
]  # fmt: skip


@pytest.mark.parametrize(("expr", "given", "name", "value"), EDITS)
def test_edit_changes_exactly_that_argument(expr, given, name, value):
    """Positional, keyword and absent arguments in every framework: after the edit, the bound
    value of ``name`` is the new one and every other argument is as before."""
    before = dict(map_call(expr, **given).arguments)
    edited = knobs.edit(expr, map_call(expr, **given), name, value)
    after = dict(map_call(edited, **given).arguments)
    wanted = eval(value)  # noqa: S307 - a literal of this test
    assert after[name] in (wanted, tuple(wanted) if isinstance(wanted, list) else wanted)
    assert {k: v for k, v in after.items() if k != name} == {k: v for k, v in before.items() if k != name}


def test_knobs_say_how_each_argument_is_given():
    mapped = map_call("nn.Conv2d(3, 8, 3, stride=2)", (1, 3, 9, 9))
    found = {k["role"]: (k["name"], k["value"], k["given"]) for k in knobs.knobs(mapped)}
    assert found == {
        "kernel": ("kernel_size", "3", "positional"),
        "stride": ("stride", "2", "keyword"),
        "padding": ("padding", "0", "default"),
        "dilation": ("dilation", "1", "default"),
    }


@pytest.mark.parametrize("value", ["__import__('os')", "1.5", "x", "(1, (2, (3,)))", "1" * 300])
def test_edit_refuses_anything_but_a_literal(value):
    mapped = map_call("nn.Conv2d(3, 8, 3)", (1, 3, 9, 9))
    with pytest.raises(convarith.ConvArithError, match="Rule"):
        knobs.edit("nn.Conv2d(3, 8, 3)", mapped, "stride", value)


def test_serve_binds_loopback_by_default(monkeypatch, capsys):
    import uvicorn

    from convarith import cli

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **kw: seen.update(host=host, port=port))
    assert cli.main(["serve"]) == 0
    assert seen == {"host": "127.0.0.1", "port": 8000}
    assert "warning" not in capsys.readouterr().err
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "8123"]) == 0
    assert seen == {"host": "0.0.0.0", "port": 8123}
    assert "warning: serving on 0.0.0.0" in capsys.readouterr().err


def test_serve_without_the_web_extra(monkeypatch, capsys):
    import builtins

    from convarith import cli

    real_import = builtins.__import__

    def no_uvicorn(name, *args, **kwargs):
        if name == "uvicorn":
            raise ImportError("no uvicorn", name="uvicorn")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_uvicorn)
    assert cli.main(["serve"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error:") and "convarith[web]" in err
    assert os.environ.get("CONVARITH_DEBUG") is None


@pytest.mark.parametrize(
    ("expr", "input_shape", "view"),
    [
        ("nn.ConvTranspose1d(1, 1, 3, stride=2, padding=1)", "1,1,4", "scatter"),
        ("nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1)", "1,1,3,4", "scatter"),
        ("nn.Conv1d(1, 1, 3)", "1,1,8", "forward"),
    ],
)
def test_a_clicked_output_cell_is_that_output_element(client, expr, input_shape, view):
    """Every drawn output cell's data-r/data-c, sent back as at=, names the output element it shows
    (the scatter view, unpooling and fold draw the cut padding too; a 1-D drawing is one row)."""
    import re

    svg = client.get("/api/draw", params={"expr": expr, "input": input_shape, "view": view}).text
    cells = [(int(r), int(c)) for r, c in re.findall(r'class="output" data-r="(\d+)" data-c="(\d+)"', svg)]
    shape = convarith.output_shape(expr, tuple(int(v) for v in input_shape.split(",")))
    rank = len(shape) - 2
    wanted = (
        [(0, j) for j in range(shape[-1])] if rank == 1 else [(i, j) for i in range(shape[2]) for j in range(shape[3])]
    )
    seen = []
    for r, c in cells:
        answer = client.get("/api/cell", params={"expr": expr, "input": input_shape, "view": view, "at": f"{r},{c}"})
        assert answer.status_code == 200, answer.text
        index = answer.json()["index"]
        seen.append((0, index[2]) if rank == 1 else (index[2], index[3]))
    assert sorted(seen) == wanted


def test_unpooling_cells_skip_the_cut_padding():
    mapped = map_call("nn.MaxUnpool2d(2, padding=1)", (1, 1, 3, 3))  # output 4x4 drawn in a 6x6 grid
    assert handlers.drawn_cell(mapped, (1, 1), "forward") == (0, 0)
    assert handlers.drawn_cell(mapped, (4, 4), "forward") == (3, 3)
