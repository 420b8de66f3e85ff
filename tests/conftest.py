"""Test options: --update-golden rewrites golden files; oracles are shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/*.out from current output")


@pytest.fixture
def golden(request):
    """golden(name, text): compare ``text`` with tests/golden/<name>.out."""
    update = request.config.getoption("--update-golden")

    def check(name: str, text: str) -> None:
        path = GOLDEN / f"{name}.out"
        if update:
            path.write_text(text if text.endswith("\n") else text + "\n")
            return
        assert path.exists(), f"missing golden file {path}; run pytest --update-golden and review the diff"
        assert text.rstrip("\n") == path.read_text().rstrip("\n")

    return check


def selected_frameworks() -> tuple[str, ...]:
    """CONVARITH_TEST_FRAMEWORKS=torch,onnx narrows the differential run; default all."""
    from tests.differential.oracle import FRAMEWORKS

    chosen = os.environ.get("CONVARITH_TEST_FRAMEWORKS", ",".join(FRAMEWORKS))
    return tuple(name for name in chosen.split(",") if name)


@pytest.fixture(scope="session")
def oracle():
    """oracle(name) -> the started worker of that framework.

    A selected framework that does not import fails the test; one left out of
    CONVARITH_TEST_FRAMEWORKS is skipped with that reason, visibly."""
    from tests.differential.oracle import Oracle

    started: dict = {}

    def get(name: str) -> Oracle:
        if name not in selected_frameworks():
            pytest.skip(f"{name} not selected by CONVARITH_TEST_FRAMEWORKS")
        if name not in started:
            started[name] = Oracle(name)
            started[name].check_importable()
        return started[name]

    yield get
    for worker in started.values():
        worker.close()


def pytest_terminal_summary(terminalreporter):
    """Print how many cases agreed with each framework (shapes and refusals)."""
    from tests.differential.compare import TALLY
    from tests.differential.numerics import MAX_DIFF, NAN_CASES, NUMERIC_TALLY

    translation_summary(terminalreporter)

    if NUMERIC_TALLY:
        terminalreporter.section("numeric agreement with the real frameworks (convarith.forward)")
        for name in sorted(NUMERIC_TALLY):
            terminalreporter.write_line(
                f"{name:8s} {NUMERIC_TALLY[name]:6d} cases agreed, max |difference| {MAX_DIFF.get(name, 0.0):.2e}"
                + (f", {NAN_CASES[name]} with NaN at the same positions" if NAN_CASES[name] else "")
            )
    if not TALLY:
        return
    explained = sum(TALLY[name, "explained"] for name, _ in TALLY)
    if explained:
        terminalreporter.section("explanations checked against the shape (every differential shape case)")
        for name in sorted({framework for framework, _ in TALLY}):
            terminalreporter.write_line(f"{name:8s} {TALLY[name, 'explained']:6d} explanations agree with the shape")
    if any(key == "reach" for _, key in TALLY):
        terminalreporter.section("unreached cells agree with autograd (zero gradient, all-ones weights)")
        for name in sorted({framework for framework, key in TALLY if key == "reach"}):
            terminalreporter.write_line(f"{name:8s} {TALLY[name, 'reach']:6d} calls, every input cell compared")
    design = ("inverse round trips", "dropped-cell gradients")  # inverse11
    if any(key in design for _, key in TALLY):
        terminalreporter.section("inverse round trips and dropped cells in the real frameworks")
        for name, key in sorted(k for k in TALLY if k[1] in design):
            terminalreporter.write_line(f"{name:8s} {TALLY[name, key]:6d} {key}")
    agreed = sorted({framework for framework, key in TALLY if key in ("shape", "refusal", "crash")})
    if agreed:
        terminalreporter.section("agreement with the real frameworks")
    for name in agreed:
        shape, refusal, crash = (TALLY[name, key] for key in ("shape", "refusal", "crash"))
        terminalreporter.write_line(
            f"{name:8s} {shape + refusal + crash:6d} cases agreed: {shape} shapes, {refusal} refusals, {crash} crashes refused"
        )


def translation_summary(terminalreporter):
    """Issue 12: how many translations agreed per direction (tests/differential/test_translate.py)."""
    import sys

    module = sys.modules.get("tests.differential.test_translate")
    if module is not None:
        module.summary(terminalreporter)
