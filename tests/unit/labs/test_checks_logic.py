"""Check result interpretation, without an engine."""

import pytest

from labs.checks import feedback_from, interpret
from labs.runtime.base import ExecResult


@pytest.mark.parametrize(
    ("output", "passed", "expected"),
    [
        ("step one\nFAIL: the file is missing\nmore noise\n", False, "the file is missing"),
        ("FAIL: first\nFAIL: second\n", False, "second"),
        ("no marker here\nlast line\n\n", False, "last line"),
        ("", False, "Not done yet."),
        ("", True, "Passed."),
        ("all good\n", True, "all good"),
    ],
)
def test_feedback_line(output, passed, expected):
    assert feedback_from(output, passed=passed) == expected


def test_interpret_pass_fail_timeout_flood_and_cannot_start():
    ok = interpret(ExecResult(0, b"done\n", 12), timeout=10)
    assert ok.passed and not ok.errored and ok.feedback == "done"
    fail = interpret(ExecResult(1, b"FAIL: nope\n", 12), timeout=10)
    assert not fail.passed and not fail.errored and fail.feedback == "nope"
    hung = interpret(ExecResult(124, b"", 10_050), timeout=10)
    assert hung.errored and not hung.passed and "did not finish within 10 s" in hung.feedback
    killed = interpret(ExecResult(None, b"", 14_000, timed_out=True), timeout=10)
    assert killed.errored and not killed.passed
    flood = interpret(ExecResult(None, b"y\n" * 100, 300, truncated=True), timeout=10)
    assert flood.errored and not flood.passed and "output" in flood.feedback
    missing = interpret(
        ExecResult(126, b"unable to find user ghost: no matching entries in passwd file\n", 5), timeout=10
    )
    assert missing.errored and not missing.passed and "failed to run" in missing.feedback
    # a student's own program exiting 127 is an ordinary failure, not a broken check
    plain = interpret(ExecResult(127, b"bash: line 1: mytool: command not found\n", 5), timeout=10)
    assert not plain.errored and not plain.passed
