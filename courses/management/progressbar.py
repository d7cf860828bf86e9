"""A small progress bar for management commands: redraws in place on a terminal, prints
milestones when the output is a file or pipe (CI logs stay readable)."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    def __init__(self, stream=None, *, width: int = 30, label: str = ""):
        self.stream = stream or sys.stdout
        self.width, self.label = width, label
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.started = time.monotonic()
        self._last_percent = -1

    def __call__(self, done: int, total: int, what: str = "") -> None:
        total = max(total, 1)
        percent = min(100, int(100 * done / total))
        filled = int(self.width * done / total)
        bar = "█" * filled + "░" * (self.width - filled)
        line = f"{self.label} [{bar}] {done}/{total} {percent:3d}% {what}"[:120]
        if self.tty:
            self.stream.write("\r\033[K" + line)
            if done >= total:
                self.stream.write("\n")
            self.stream.flush()
        elif percent // 10 != self._last_percent // 10 or done >= total:
            self.stream.write(line + "\n")
            self.stream.flush()
        self._last_percent = percent

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started
