"""Errors a person can read. Interfaces catch LabError and show its message; the log gets details."""


class LabError(Exception):
    """Something the student (or operator) asked for cannot happen; the message says why."""


class QuotaExceeded(LabError):
    pass


class LabUnavailable(LabError):
    pass


class InvalidTransition(LabError):
    pass


class NotAllowed(LabError):
    pass
