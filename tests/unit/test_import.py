"""``import convarith`` and the shape path load the standard library only."""

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "tensorflow", "keras", "jax", "onnx", "onnxruntime", "numpy")

CHECK = """
import json, sys
{code}
print(json.dumps(sorted(name for name in {heavy!r} if name in sys.modules)))
"""


def loaded_after(code: str) -> list[str]:
    """Heavy modules present in sys.modules after running ``code`` in a fresh interpreter."""
    script = CHECK.format(code=code, heavy=HEAVY)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "code",
    [
        "import convarith",
        "import convarith; convarith.output_shape('nn.Conv2d(3, 8, 3)', (1, 3, 32, 32))",
        "import convarith; str(convarith.explain('nn.ConvTranspose2d(3, 8, 3, stride=2)', (1, 3, 32, 32)))",
        "from convarith.cli import main; main(['shape', 'nn.Conv2d(3, 8, 3)', '--input', '1,3,32,32', '--json'])",
    ],
)
def test_no_framework_and_no_numpy_is_imported(code):
    assert loaded_after(code) == []


def test_the_check_sees_an_imported_module():
    assert loaded_after("import json as numpy; sys.modules['numpy'] = numpy") == ["numpy"]
