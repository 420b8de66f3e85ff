"""Golden translations: the seed's five Keras Conv2DTranspose calls on (1, 96, 128, 3) written in every
framework (tests/golden/translate/<to>.txt; regenerate with pytest --update-golden and read the diff)."""

from pathlib import Path

import pytest

import convarith
from convarith.translate import TARGETS

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "translate"
SEED_INPUT = (1, 96, 128, 3)
SEED_CALLS = [
    f"keras.layers.Conv2DTranspose(filters=3, kernel_size=3, strides={s}, padding={p!r})"
    for p, s in (("valid", 1), ("valid", 2), ("same", 1), ("same", 2), ("same", 3))
]


def translations(to: str) -> str:
    texts = []
    for expr in SEED_CALLS:
        try:
            texts.append(str(convarith.translate(expr, to, SEED_INPUT)))
        except convarith.ConvArithError as refusal:
            texts.append(f"# {expr} -> {to}: refused\n# {refusal}")
    return "\n\n\n".join(texts) + "\n"


@pytest.mark.parametrize("to", list(TARGETS))
def test_seed_translations(request, to):
    path = GOLDEN / f"{to}.txt"
    text = translations(to)
    if request.config.getoption("--update-golden"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"missing golden file {path}; run pytest --update-golden and review the diff"
    assert text == path.read_text()
