"""manage.py labs selftest / check on a real engine."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from labs import services
from labs.models import LabSession, Task

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_selftest_passes_for_a_good_lab(lab_env, capsys):
    call_command("labs", "selftest", "mini/first")
    out = capsys.readouterr().out
    assert "PASS mini/first" in out and "1 of 1 lab(s) pass" in out
    assert "make-file" in out and "say-hello" in out
    assert not LabSession.objects.filter(state__in=LabSession.LIVE_STATES).exists()  # cleaned up


def test_selftest_fails_when_a_check_passes_before_the_work(lab_env, capsys):
    Task.objects.filter(slug="make-file").update(check_script="exit 0\n")
    with pytest.raises(CommandError, match="failing: mini/first"):
        call_command("labs", "selftest", "--all")
    assert "PASSES BEFORE WORK" in capsys.readouterr().out


def test_selftest_fails_when_a_solution_does_not_solve(lab_env, capsys):
    Task.objects.filter(slug="say-hello").update(solution_script="echo goodbye >> ~/notes.txt\n")
    with pytest.raises(CommandError):
        call_command("labs", "selftest", "mini/first")
    assert "FAILS: notes.txt does not say hello" in capsys.readouterr().out


def test_labs_check_command(lab_env, capsys):
    session = services.lab_session_start(user=lab_env["alice"], lab=lab_env["lab"])
    call_command("labs", "check", session.id.hex[:10])
    out = capsys.readouterr().out
    assert "make-file" in out and "fail" in out and "~/notes.txt does not exist yet" in out
    assert "Finish “Make a file” first" in out
