"""Prints the fuzz run's outcome counts at the end of the session."""


def pytest_terminal_summary(terminalreporter):
    from tests.fuzz.test_fuzz import OUTCOMES

    if OUTCOMES:
        terminalreporter.section("fuzz outcomes (only ConvArithError refusals and checked answers pass)")
        for key in sorted(OUTCOMES):
            terminalreporter.write_line(f"{OUTCOMES[key]:7d}  {key}")
