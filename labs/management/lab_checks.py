"""`manage.py labs check|selftest` (added with lab tasks and checks)."""


def add_parsers(sub) -> None:
    pass


def handle(command, action, **options):
    from django.core.management.base import CommandError

    raise CommandError(f"unknown action {action}")
