"""Hypothesis strategies for the fuzz run: expressions over every registered spelling, with
arguments of every type; shapes, arrays, weights, indices, budgets and files, valid and adversarial.

Everything drawn is plain data (text, tuples, small dicts), so a failing example is its own reproducer.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from convarith.frameworks import table

SPELLINGS = sorted(table()[0])
ONNX_OPS = ["Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool", "GlobalMaxPool", "GlobalAveragePool",
            "GlobalLpPool", "conv", "Relu", "", "Resize"]  # fmt: skip
KEYWORDS = [
    "kernel_size", "stride", "strides", "padding", "dilation", "dilations", "dilation_rate", "groups", "group",
    "ceil_mode", "count_include_pad", "output_padding", "data_format", "filters", "activation", "use_bias",
    "padding_mode", "divisor_override", "return_indices", "norm_type", "output_size", "depth_multiplier",
    "pool_size", "in_channels", "out_channels", "bias", "kernel_shape", "pads", "auto_pad", "p", "ksize",
    "window_shape", "pooling_type", "lhs_dilation", "rhs_dilation", "dimension_numbers", "feature_group_count",
    "batch_group_count", "window_strides", "output_shape", "input", "weight", "filters_", "name", "dtype",
    "storage_order", "count_include_pad_", "transpose_kernel", "precision", "preferred_element_type",
    "input_shape", "input_dim", "batch_size", "trainable", "kernel_regularizer", "kernel_initializer", "device",
    "size", "scale_factor", "mode", "align_corners", "recompute_scale_factor", "antialias", "interpolation", "scales",
    "sizes", "roi", "axes", "coordinate_transformation_mode", "nearest_mode", "keep_aspect_ratio_policy", "method",
]  # fmt: skip
CALL_VALUES = ["l2(1e-4)", "keras.regularizers.L2(l2=0.01)", "keras.initializers.HeNormal()", "torch.device('cpu')",
               "f(g(1))", "a.b(*c)", "l2(x=1, **k)", "tf.shape(y)"]  # fmt: skip
STRINGS = [
    "same", "valid", "SAME", "VALID", "causal", "full", "zeros", "reflect", "replicate", "circular", "channels_first",
    "channels_last", "NCHW", "NHWC", "NCW", "NWC", "NCDHW", "NDHWC", "OIHW", "HWIO", "relu", "sigmoid", "tanh",
    "softmax", "linear", "gelu", "elu", "SAME_UPPER", "SAME_LOWER", "NOTSET", "EXPLICIT", "MAX", "AVG", "x", "",
    "abc", "\\d", "é", "NC", "0", "None", "nearest", "bilinear", "bicubic", "trilinear", "area", "nearest-exact",
    "lanczos3", "half_pixel", "align_corners", "tf_crop_and_resize", "round_prefer_ceil", "not_larger",
]  # fmt: skip
NAMES = ["x", "w", "b", "k", "input", "weight", "bias", "kernel", "lhs", "rhs", "y", "np.pi", "a.b.c"]
CONSTANTS = ["None", "True", "False", "0.5", "2.0", "1e999", "-0.0", "8.7", "-1.5", "1j", "...", "b'x'"]
OPERATORS = ["+", "-", "*", "//", "%", "**", "/", "@"]  # issue 8: integer arithmetic, folded or refused
REFERENCES = [
    "tf.shape(y)", "y.shape", "x.shape[1:3]", "x.shape[0]", "x.shape[-9]", "y.size()", "tf.shape(q)", "x.shape[::0]",
    "lax.conv_dimension_numbers(x.shape, w.shape, ('NHWC', 'HWIO', 'NHWC'))", "lax.conv_dimension_numbers(x, w, None)",
    "keras.regularizers.L2(1e-4)", "k // 2", "-k", "x.shape[1] * 2",
]  # fmt: skip
HUGE = [2**31, 2**32, 2**53 + 1, 2**62, 2**63 - 1, 2**63, -(2**63), 10**12, 10**18, 10**30]


def tuple_text(items: list[str]) -> str:
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


small_ints = st.integers(-2, 6)
int_texts = st.one_of(small_ints, small_ints, st.integers(0, 3), st.sampled_from(HUGE)).map(str)
int_tuples = st.lists(int_texts, max_size=4).map(tuple_text)
int_lists = st.lists(int_texts, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]")
pairs = st.lists(st.lists(int_texts, min_size=2, max_size=2).map(tuple_text), max_size=3)
dimension_numbers = st.sampled_from(
    ["('NCHW', 'OIHW', 'NCHW')", "('NHWC', 'HWIO', 'NHWC')", "('NCH', 'OIH', 'NCH')", "('NWC', 'WIO', 'NWC')",
     "('NCHW', 'OIHW')", "('ABC', 'DEF', 'GHI')", "None", "('NCDHW', 'OIDHW', 'NCDHW')"]
)  # fmt: skip


def value_texts() -> st.SearchStrategy[str]:
    """Source text of one argument value: ints (small, huge, negative), tuples, lists, strings, names, constants."""
    return st.one_of(
        int_texts,
        int_texts,
        int_tuples,
        int_lists,
        st.sampled_from(STRINGS).map(repr),
        st.sampled_from(STRINGS).map(repr),
        st.sampled_from(CONSTANTS),
        st.sampled_from(NAMES),
        pairs.map(tuple_text),
        pairs.map(lambda xs: "[" + ", ".join(xs) + "]"),
        dimension_numbers,
        st.sampled_from(CALL_VALUES),
        st.lists(st.sampled_from(STRINGS).map(repr), max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.tuples(int_texts, st.sampled_from(OPERATORS), int_texts).map(" ".join),
        st.sampled_from(REFERENCES),
        st.lists(st.one_of(int_texts, st.sampled_from(REFERENCES)), max_size=5).map(
            lambda xs: "[" + ", ".join(xs) + "]"
        ),
    )


@st.composite
def structured_calls(draw) -> str:
    """A call to a registered spelling, shaped like real code: module args, functional tensors, ONNX nodes."""
    spelling = draw(st.sampled_from(SPELLINGS))
    last = spelling.rsplit(".", 1)[-1]
    if last == "make_node":
        inputs = draw(st.sampled_from(["['x']", "['x', 'w']", "['x', 'w', 'b']", "[]", "['x', 'x']", "'x'", "[x]"]))
        positional = [
            repr(draw(st.sampled_from(ONNX_OPS))),
            inputs,
            draw(st.sampled_from(["['y']", "[]", "['y', 'i']"])),
        ]
    elif last[:1].islower():
        tensors = ["x", "w"] if "conv" in last else ["x"]
        positional = draw(st.sampled_from([tensors, tensors, ["x"], [], ["x", "w", "b"]]))
        positional = positional + draw(st.lists(value_texts(), max_size=4))
    else:
        positional = draw(st.lists(st.one_of(st.integers(1, 4).map(str), value_texts()), max_size=4))
    keywords = draw(st.lists(st.sampled_from(KEYWORDS), max_size=4, unique=True))
    arguments = positional + [f"{key}={draw(value_texts())}" for key in keywords]
    return f"{spelling}({', '.join(arguments)})"


ALPHABET = "()[]{},=:'\". -+*/%@0123456789abcxyzNFnl_\\\n\t"


@st.composite
def adversarial_calls(draw) -> str:
    """Text a parser must refuse cleanly: deep nesting, long runs, junk, code that must never run."""
    base = draw(structured_calls())
    depth = draw(st.sampled_from([10, 100, 200, 1000, 3000]))
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return "nn.Conv2d(3, 8, " + "-" * depth + "3)"
    if choice == 1:
        return "nn.Conv2d" + "(1)" * (depth // 3)
    if choice == 2:
        return "nn.Conv2d(3, 8, " + "(" * depth + "3" + ")" * depth + ")"
    if choice == 3:
        return "nn.Conv2d(3, 8, [" + "[" * depth + "]" * depth + "])"
    if choice == 4:
        cut = draw(st.integers(0, len(base)))
        return base[:cut] + draw(st.text(ALPHABET, max_size=8)) + base[cut:]
    if choice == 5:
        return draw(st.text(ALPHABET, max_size=60))
    if choice == 6:
        return draw(
            st.sampled_from(
                ["__import__('os').system('true')", "nn.Conv2d(*a)", "nn.Conv2d(**k)", "(lambda: 1)()",
                 "nn.Conv2d(3, 8, 3) + 1", "nn.Conv2d(3, 8, (x := 3))", "nn.Conv2d(3, 8, 3)(x)", "f'{1}'",
                 "nn.Conv2d(3, 8, 3); nn.Conv2d(1, 1, 1)", "nn.Conv2d(3, 8, 3)[0]", "nn.Conv2d(3, 8, -3)",
                 "nn.Conv2d(3, 8, 3, stride=1e309)", "nn.Conv2d(3, 8, 3, padding=" + "9" * 3000 + ")", "\x00",
                 "nn.Conv2d(3, 8, 3, padding='" + "\\" + "d')", "nn.Conv2d(3, 8, 3, padding=1_000)", "nn.Conv2d(,)"]
            )
        )  # fmt: skip
    if choice == 7:
        return base.replace("(", "(" + draw(value_texts()) + ", ", 1)
    if choice == 8:
        return base * draw(st.integers(2, 3))
    return base + draw(st.sampled_from(["", ")", ",)", "(", "#", " if 1 else 2"]))


expressions = st.one_of(structured_calls(), structured_calls(), structured_calls(), adversarial_calls())

sizes = st.one_of(st.integers(0, 9), st.integers(1, 4), st.sampled_from([16, 33, 10**8, 2**31, 2**63 - 1, 10**30, -1]))


@st.composite
def shapes(draw):
    """A shape as the user might pass it: tuples of any rank, huge or negative sizes, lists, NumPy, floats, junk."""
    rank = draw(st.integers(0, 6))
    items = draw(st.lists(sizes, min_size=rank, max_size=rank))
    form = draw(st.integers(0, 12))
    if form <= 6:
        return tuple(items)
    if form == 7:
        return list(items)
    if form == 8 and all(abs(i) < 2**62 for i in items):
        return np.array(items, dtype=np.int64)
    if form == 9:
        return tuple(np.int64(i) if abs(i) < 2**62 else i for i in items)
    if form == 10 and items:
        items[draw(st.integers(0, len(items) - 1))] = draw(
            st.sampled_from([8.7, 8.0, np.array(8.7), np.array(8), True])
        )
        return tuple(items)
    return draw(
        st.sampled_from(
            [
                None,
                "1,3,8,8",
                5,
                (),
                [[1, 2]],
                {"a": 1},
                (1, None, 3),
                (1, "3", 8),
                8.0,
                (None, 3, 8),
                [None, 8, 8, 3],
                (None,),
                (None, None, 4),
            ]
        )
    )


@st.composite
def array_specs(draw, rank=None):
    """A small array as a spec (built in the child): any dtype, NaN/inf/huge values, empty or wrong shapes."""
    if rank is None:
        rank = draw(st.integers(0, 5))
    shape = tuple(draw(st.lists(st.integers(0, 7), min_size=rank, max_size=rank)))
    while int(np.prod(shape)) > 6000:
        shape = shape[:-1]
    dtype = draw(
        st.sampled_from(["float32", "float32", "float32", "float64", "float16", "int32", "int64", "uint8", "bool",
                         "complex64", "object", "<U2", ">f4"])
    )  # fmt: skip
    fill = draw(st.sampled_from(["randn", "randn", "randn", "ints", "zeros", "nan", "inf", "-inf", "huge"]))
    return {"shape": shape, "dtype": dtype, "fill": fill, "seed": draw(st.integers(0, 3))}


weight_lists = st.one_of(
    st.just("discover"),
    st.just("discover"),
    st.just("discover"),
    st.none(),
    st.just([]),
    st.lists(array_specs(), min_size=1, max_size=3),
    st.sampled_from(["w", 5, [None], [[1.0, 2.0]]]),
)
indices = st.one_of(
    st.just("pick"),
    st.just("pick"),
    st.just("pick"),
    st.sampled_from([None, 0.5, 0, (), (0,), (0, 0), (0, 0, 0), (0, 0, 0, 0), (-1, -1, -1), (10**30, 0, 0), "0,0",
                     (0.0, 0, 0), (True, 0, 0), [0, 0, 0]]),
)  # fmt: skip
budgets = st.one_of(
    st.none(), st.none(), st.none(), st.sampled_from([1, 1000, 2**20, 2**40, -1, 0, "abc", [], float("inf"), 1.5, True])
)


@st.composite
def numeric_requests(draw):
    """forward / trace_element / transposed_views on a drawn call with drawn arrays."""
    call = draw(st.sampled_from(["forward", "forward", "trace_element", "transposed_views"]))
    expr = draw(expressions)
    request = {"call": call, "expr": expr, "max_bytes": draw(budgets)}
    if draw(st.integers(0, 9)) == 0:
        request["output_size"] = draw(shapes())
    functional = draw(st.booleans()) and "(" in expr and expr.split("(", 1)[0].rsplit(".", 1)[-1][:1].islower()
    if functional:
        rank = draw(st.integers(1, 5))
        request["arrays"] = {
            name: draw(array_specs(rank if name != "b" else 1))
            for name in draw(st.sampled_from([("x", "w"), ("x", "w", "b"), ("x",), ("w",), ("x", "k")]))
        }
    else:
        request["x"] = draw(st.one_of(array_specs(), array_specs(), st.sampled_from([None, [1, 2, 3], "x", 3.0])))
        request["weights"] = draw(weight_lists)
    if call == "trace_element":
        request["index"] = draw(indices)
        request["seed"] = draw(st.integers(0, 2**16))
    return request


draw_options = st.fixed_dictionaries(
    {},
    optional={
        "fmt": st.sampled_from(["svg", "ascii", "ascii", "gif", "png", None, 3]),
        "at": st.one_of(
            st.lists(st.integers(-2, 40), max_size=4).map(tuple),
            st.sampled_from([0, -1, 2**63, (True, 0), "0,0", 1.5, (10**30, 0), None]),
        ),
        "axes": st.one_of(
            st.lists(st.integers(-4, 4), max_size=3).map(tuple),
            st.sampled_from(["height", ("depth", "width"), ("width", "width"), 0, 1.0, "", None]),
        ),
        "view": st.sampled_from(["forward", "scatter", "scatter", "up", None]),
    },
)  # convarith.draw's own arguments, most of them bad


@st.composite
def shape_requests(draw):
    calls = ["output_shape", "explain", "draw", "translate", "compare"]  # translate, compare: issue 12
    request = {"call": draw(st.sampled_from(calls)), "expr": draw(expressions)}
    if request["call"] == "draw":
        request["options"] = draw(draw_options)
    if request["call"] == "translate":
        request["to"] = draw(st.sampled_from(["keras", "torch", "tf", "jax", "onnx", "tf_nn", "", None, 1]))
    if draw(st.booleans()):
        request["input_shape"] = draw(shapes())
    else:
        request["shapes"] = draw(
            st.one_of(
                st.dictionaries(st.sampled_from(["x", "w", "b", "k", "input"]), shapes(), max_size=3),
                st.sampled_from([None, [("x", (1, 2))], "x"]),
            )
        )
    if draw(st.integers(0, 6)) == 0:
        request["output_size"] = draw(shapes())
    return request


small_arrays = st.tuples(
    st.lists(st.integers(0, 6), min_size=0, max_size=5).map(tuple),
    st.sampled_from(["float32", "float64", "int16", "<f8", ">f4", "float16", "bool", "complex128", "object", "<U3",
                     "datetime64[s]", "uint64"]),
    st.sampled_from(["randn", "zeros", "nan", "big"]),
)  # fmt: skip
valid_files = st.one_of(
    st.tuples(st.just("npy"), small_arrays),
    st.tuples(st.just("fortran"), small_arrays),
    st.tuples(st.just("npz"), st.lists(small_arrays, max_size=3), st.booleans()),
)
declared_shapes = st.lists(st.sampled_from([0, 1, 3, 7, 1000, 10**6, 2**31, 2**40, 10**30, -1]), max_size=4).map(tuple)
descrs = st.sampled_from(["<f4", "<f8", "|b1", "<c8", "|O", "<U5", "|V8", "[('a', '<f4')]", "<f4 ", "x", "(", "<i8"])


@st.composite
def file_specs(draw):
    """A file: valid, truncated, with flipped bytes, a lying header, a bomb, or an archive of anything."""
    base = draw(valid_files)
    return draw(
        st.one_of(
            st.just(base),
            st.just(base),
            st.tuples(st.just("truncate"), st.just(base), st.floats(0, 1)),
            st.tuples(st.just("flip"), st.just(base), st.floats(0, 1), st.integers(1, 255)),
            st.tuples(
                st.just("lying-npy"),
                declared_shapes,
                descrs,
                st.sampled_from([0, 8, 100, 4096]),
                st.sampled_from([1, 2]),
            ),
            st.tuples(
                st.just("lying-npz"),
                declared_shapes,
                descrs,
                st.sampled_from([0, 8, 4096]),
                st.sampled_from([None, None, 0, 8, 136, 2**31, 2**32 - 1]),
            ),
            st.tuples(st.just("bomb"), st.sampled_from([None, 136, 2**20])),
            st.tuples(
                st.just("member"), st.sampled_from(["arr_0.npy", "notes.txt", "dir/", "../x.npy"]), st.just(base)
            ),
            st.tuples(st.just("raw"), st.binary(max_size=64)),
            st.tuples(st.just("raw"), st.sampled_from([b"", b"\x93NUMPY", b"PK\x03\x04", b"PK\x05\x06" + bytes(18)])),
        )
    )


@st.composite
def load_requests(draw):
    many = draw(st.booleans())
    name = draw(st.sampled_from(["w.npz", "w.npy", "x.npy", "x.npz", "x.bin", "noext"]))
    budget = draw(st.sampled_from([None, None, 2**20, 100]))
    return {"call": "load", "file": draw(file_specs()), "name": name, "many": many, "max_bytes": budget}


size_texts = st.one_of(
    st.lists(sizes, min_size=1, max_size=5).map(lambda xs: ",".join(map(str, xs))),
    st.lists(st.integers(0, 9), min_size=1, max_size=5).map(lambda xs: ",".join(map(str, xs))),
    st.sampled_from(["1,3,8,8", "1x3x8x8", "(1, 3, 8, 8)", "", ",", "1,,3", "-1,3", "1.5,2", "a", "9" * 5000, "1e3",
                     "0x10", "１,２", "[1, 3, 8]", "1;3;8"]),
)  # fmt: skip
out_paths = st.sampled_from([None, None, "y.npy", "missing/y.npy", "dir.npy", "old.npy", "y.txt", "/proc/y.npy", ""])


draw_flags = st.lists(
    st.sampled_from(
        [
            ["--fmt", "svg"],
            ["--fmt", "ascii"],
            ["--fmt", "gif"],
            ["-o", "p.svg"],
            ["-o", "p.txt"],
            ["-o", "p.gif"],
            ["-o", "old.npy"],
            ["-o", "dir.npy"],
            ["-o", "missing/p.svg"],
            ["--at", "0,0"],
            ["--at", "1"],
            ["--at", "x"],
            ["--axes", "0,1"],
            ["--axes", "height,width"],
            ["--axes", "9"],
            ["--view", "scatter"],
        ]
    ),
    max_size=3,
).map(lambda flags: [item for flag in flags for item in flag])  # convarith draw's options, some bad; fmt: skip


@st.composite
def cli_cases(draw):
    """argv for `python -m convarith`, plus the files to write first: {name: file spec or array spec}."""
    command = draw(st.sampled_from(["shape", "explain", "forward", "forward", "draw"]))
    if draw(st.booleans()):
        return draw(plausible_cli_cases(command))
    argv, files, weights = [command, draw(expressions)], {}, None
    if command != "forward":
        if draw(st.booleans()):
            argv += ["--input", draw(size_texts)]
        if draw(st.integers(0, 3)) == 0:
            argv += ["--shape", draw(st.sampled_from(["x", "w", "", "x=y"])) + "=" + draw(size_texts)]
        if draw(st.integers(0, 5)) == 0:
            argv += ["--output-size", draw(size_texts)]
        if command == "draw":
            argv += draw(draw_flags)
        elif draw(st.booleans()):
            argv.append("--json")
        return argv, files, weights
    valid = draw(st.booleans())
    files["x.npy"] = ("array", draw(array_specs())) if valid else draw(file_specs())
    if draw(st.integers(0, 3)) == 0:
        argv += ["--array", "x=x.npy"]
        if draw(st.booleans()):
            files["w.npy"] = ("array", draw(array_specs())) if valid else draw(file_specs())
            argv += ["--array", "w=w.npy"]
    else:
        argv += ["--input-file", "x.npy"]
        weights = draw(st.sampled_from(["discover", "discover", "file", None]))
        if weights is not None:
            name = draw(st.sampled_from(["w.npz", "w.npz", "w.npy"]))
            argv += ["--weights-file", name]
            if weights == "file":
                files[name] = draw(file_specs())
            weights = name if weights == "discover" else None
    if draw(st.integers(0, 2)) == 0:
        argv += ["--at", draw(st.one_of(st.just("0,0,0"), st.just("0,0,0,0"), size_texts))]
    out = draw(out_paths)
    if out is not None:
        argv += ["--out", out]
    if draw(st.integers(0, 5)) == 0:
        argv += ["--max-bytes", draw(st.sampled_from(["100", "1048576", "abc", "-1", "0", "1e9", str(2**70)]))]
    return argv, files, weights


def rank_of(spelling: str, draw) -> int:
    for digit in "123":
        if f"{digit}d" in spelling.lower().rsplit(".", 1)[-1]:
            return int(digit)
    return draw(st.integers(1, 3))


def knob(draw, rank: int, low: int = 1, high: int = 3) -> str:
    """A per-axis argument as users write it: an int, or a tuple/list of one int per axis."""
    values = [draw(st.integers(low, high)) for _ in range(rank)]
    return draw(st.sampled_from([str(values[0]), tuple_text([str(v) for v in values]), str(values)]))


@st.composite
def plausible_calls(draw):
    """(expr, input shape, named shapes): a call shaped to be accepted, with arguments and input that fit,
    one argument sometimes swapped for an adversarial value."""
    spelling = draw(st.sampled_from(SPELLINGS))
    owner = table()[1][spelling][0]
    last = spelling.rsplit(".", 1)[-1]
    rank = rank_of(spelling, draw)
    c, o, k = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    spatial = tuple(draw(st.lists(st.integers(0, 9), min_size=rank, max_size=rank)))
    kernel = (k,) * rank
    args: list[str] = []
    kwargs: dict[str, str] = {}
    named: dict | None = None
    shape = (1, c) + spatial
    low = last.lower()
    if last == "make_node":
        op = draw(st.sampled_from(["Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool", "GlobalAveragePool"]))
        conv = op.startswith("Conv")
        args = [repr(op), "['x', 'w']" if conv else "['x']", "['y']"]
        if op != "GlobalAveragePool":
            kwargs["kernel_shape"] = str(list(kernel))
        for key, value in (("strides", knob(draw, rank)), ("pads", str([draw(st.integers(0, 2))] * 2 * rank))):
            if draw(st.booleans()):
                kwargs[key] = value if value.startswith("[") else f"[{value}]" if "(" not in value else value
        if draw(st.integers(0, 3)) == 0:
            kwargs["auto_pad"] = repr(draw(st.sampled_from(["SAME_UPPER", "SAME_LOWER", "VALID", "NOTSET"])))
        if conv:
            w = (o, c) + kernel if op == "Conv" else (c, o) + kernel
            named = {"x": shape, "w": w}
    elif owner == "TensorFlow (tf.nn)":
        shape = (1,) + spatial + (c,)
        window = knob(draw, rank)
        padding = repr(draw(st.sampled_from(["SAME", "VALID"])))
        if "conv" in low and "transpose" in low:
            out_sp = tuple(draw(st.integers(1, 12)) for _ in range(rank))
            args = ["x", "w", str([1, *out_sp, o]), knob(draw, rank), padding]
            named = {"x": shape, "w": kernel + (o, c)}
        elif "conv" in low or "convolution" in low:
            args = ["x", "w", knob(draw, rank), padding]
            named = {"x": shape, "w": kernel + (c, o) if "depthwise" not in low else kernel + (c, 1)}
        elif low == "pool":
            args = ["x", str(list(kernel)), repr(draw(st.sampled_from(["MAX", "AVG"]))), padding]
            named = {"x": shape}
        else:
            args = ["x", window, knob(draw, rank), padding]
            named = {"x": shape}
    elif owner == "JAX (jax.lax)":
        args = ["x", "w", str(tuple([draw(st.integers(1, 2))] * rank)), repr(draw(st.sampled_from(["SAME", "VALID"])))]
        named = {"x": shape, "w": (o, c) + kernel}
        if "transpose" in low:
            named["w"] = kernel + (c, o)
            kwargs["dimension_numbers"] = repr(("NC" + "HWD"[:rank], "HWD"[:rank] + "IO", "NC" + "HWD"[:rank]))
    elif owner == "PyTorch" and last[:1].islower():  # torch.nn.functional
        if "conv" in low:
            args = ["x", "w"]
            named = {"x": shape, "w": ((c, o) if "transpose" in low else (o, c)) + kernel}
            if draw(st.booleans()):
                args.append("b")
                named["b"] = (o,)
            kwargs["stride"] = knob(draw, rank)
        elif "adaptive" in low:
            args, named = ["x", knob(draw, rank, 1, 5)], {"x": shape}
        elif "lp_pool" in low:
            args, named = ["x", str(draw(st.sampled_from([1, 2, 3]))), knob(draw, rank)], {"x": shape}
        else:
            args, named = ["x", knob(draw, rank)], {"x": shape}
    elif owner == "Keras":
        shape = (1,) + spatial + (c,)
        if "Conv" in last and "Depthwise" not in last:
            args = [str(o), knob(draw, rank)]
        elif "Depthwise" in last:
            args = [knob(draw, rank)]
        else:
            args = [knob(draw, rank)]
        if draw(st.booleans()):
            kwargs["strides"] = knob(draw, rank)
        if draw(st.booleans()):
            kwargs["padding"] = repr(draw(st.sampled_from(["same", "valid", "causal"])))
        if draw(st.integers(0, 3)) == 0:
            kwargs["activation"] = repr(draw(st.sampled_from(["relu", "sigmoid", "tanh", "softmax", "linear", "gelu"])))
        if draw(st.integers(0, 4)) == 0:
            kwargs["data_format"] = repr("channels_first")
            shape = (1, c) + spatial
    else:  # torch.nn modules
        if "Conv" in last:
            args = [str(c), str(o), knob(draw, rank)]
            if draw(st.booleans()):
                kwargs["stride"] = knob(draw, rank)
            if draw(st.booleans()):
                kwargs["padding"] = draw(st.sampled_from([knob(draw, rank, 0, 2), "'same'", "'valid'"]))
            if draw(st.integers(0, 3)) == 0:
                kwargs["dilation"] = knob(draw, rank)
        elif "Adaptive" in last:
            args = [knob(draw, rank, 1, 5)]
        elif "LPPool" in last:
            args = [str(draw(st.sampled_from([1, 2, 3, 1.5]))), knob(draw, rank)]
        else:
            args = [knob(draw, rank)]
            if draw(st.booleans()):
                kwargs["stride"] = knob(draw, rank)
            if draw(st.booleans()):
                kwargs["ceil_mode"] = "True"
            if "Avg" in last and draw(st.booleans()):
                kwargs["count_include_pad"] = "False"
        if draw(st.integers(0, 3)) == 0:
            shape = shape[1:]
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2]))):  # arguments made adversarial
        where = draw(st.integers(0, len(args) + len(kwargs)))
        value = draw(
            st.one_of(st.sampled_from(["0", "-1", "-3", "2**63", "1.5", "True", "k", "[]", "''"]), value_texts())
        )
        if where < len(args):
            args[where] = value
        else:
            kwargs[draw(st.sampled_from(KEYWORDS + list(kwargs)))] = value
    text = ", ".join(args + [f"{key}={value}" for key, value in kwargs.items()])
    return f"{spelling}({text})", shape, named


def spec_of(draw, shape) -> dict:
    dtype = draw(st.sampled_from(["float32", "float32", "float32", "float64", "float16", "int64"]))
    fill = draw(st.sampled_from(["randn", "randn", "randn", "ints", "nan", "inf", "huge"]))
    return {"shape": tuple(shape), "dtype": dtype, "fill": fill, "seed": draw(st.integers(0, 3))}


@st.composite
def plausible_requests(draw):
    """Calls likely to be accepted, through every entry point, with arrays that fit them."""
    expr, shape, named = draw(plausible_calls())
    call = draw(
        st.sampled_from(["output_shape", "explain", "draw", "forward", "forward", "trace_element", "transposed_views"])
    )
    request = {"call": call, "expr": expr}
    if call == "draw":
        request["options"] = draw(draw_options)
    if call in ("output_shape", "explain", "draw"):
        if named:
            request["shapes"] = named
        else:
            request["input_shape"] = shape
        return request
    if any(n > 64 for n in (named or {"x": shape})["x"]):
        return {"call": "output_shape", "expr": expr, "input_shape": shape}
    if named:
        request["arrays"] = {name: spec_of(draw, s) for name, s in named.items()}
    else:
        request["x"] = spec_of(draw, shape)
        request["weights"] = "discover"
    if call == "trace_element":
        request["index"] = "pick"
        request["seed"] = draw(st.integers(0, 2**16))
    return request


library_requests = st.one_of(
    plausible_requests(), plausible_requests(), shape_requests(), numeric_requests(), load_requests()
)


@st.composite
def plausible_cli_cases(draw, command):
    """A likely-accepted call with files that fit it (weights learnt by the parent before the run)."""
    expr, shape, named = draw(plausible_calls())
    argv, files, weights = [command, expr], {}, None
    if command != "forward":
        if named:
            for name, sizes in named.items():
                argv += ["--shape", f"{name}={','.join(map(str, sizes))}"]
        else:
            argv += ["--input", ",".join(map(str, shape))]
        if command == "draw":
            argv += draw(draw_flags)
        elif draw(st.booleans()):
            argv.append("--json")
        return argv, files, weights
    if named:
        for name, sizes in named.items():
            files[f"{name}.npy"] = ("array", spec_of(draw, sizes))
            argv += ["--array", f"{name}={name}.npy"]
    else:
        files["x.npy"] = ("array", spec_of(draw, shape))
        weights = draw(st.sampled_from(["w.npz", "w.npz", "w.npy"]))
        argv += ["--input-file", "x.npy", "--weights-file", weights]
    if draw(st.integers(0, 2)) == 0:
        argv += ["--at", ",".join("0" * len(shape))]
    out = draw(out_paths)
    if out is not None:
        argv += ["--out", out]
    return argv, files, weights


# --- rearranging and reduce_window (wip8-rearr): their keywords and the names they read ---
KEYWORDS += [
    "upscale_factor", "downscale_factor", "block_size", "rate", "value", "depthwise_filter", "pointwise_filter",
    "include_batch_in_index", "output_dtype", "operand", "init_value", "computation", "window_dimensions",
    "base_dilation", "window_dilation",
]  # fmt: skip
ONNX_OPS += ["DepthToSpace", "SpaceToDepth"]
KEYWORDS += ["blocksize", "mode"]
NAMES += ["-jnp.inf", "jnp.inf", "-np.inf", "math.inf", "lax.max", "lax.min", "lax.add", "jnp.maximum", "-x"]
# --- glpad: padding, cropping, global pooling and unpooling arguments ---
ONNX_OPS += ["Pad"]
KEYWORDS += ["cropping", "keepdims", "value", "mode", "axes", "indices"]
STRINGS += ["constant", "edge", "wrap"]
# --- ONNX MaxUnpool (issue 12): X, I and the output_shape= values ---
ONNX_OPS += ["MaxUnpool"]
NAMES += ["I"]


# --- inverse11: inverse and solve on plausible calls (solve with one argument left as ...) ---


@st.composite
def design_requests(draw):
    expr, shape, named = draw(plausible_calls())
    call = draw(st.sampled_from(["inverse", "solve"]))
    request = {"call": call, "expr": expr}
    if named:
        request["shapes"] = named
    else:
        request["input_shape"] = shape
    if call == "solve":
        head, _, rest = expr.partition("(")
        pieces = rest[:-1].split(", ") if rest.endswith(")") else [rest]
        pieces[draw(st.integers(0, max(len(pieces) - 1, 0)))] = draw(
            st.sampled_from(["...", "stride=...", "padding=..."])
        )
        request["expr"] = f"{head}({', '.join(pieces)})"
        request["target"] = draw(
            st.sampled_from([(1, 4, 4, 4), (1, 2, 8), (None, 3, 5, 5), ()])
            | st.lists(st.integers(0, 12), min_size=1, max_size=5).map(tuple)
        )
    return request


library_requests = st.one_of(library_requests, design_requests())
