"""Terminal logic that needs no socket: size clamping, flow control, tab names, and the
asciicast v2 recorder. The consumer (labs.consumers.TerminalConsumer) wires these together."""

from __future__ import annotations

import asyncio
import codecs
import json
import re
import time
from pathlib import Path

MIN_COLS, MAX_COLS = 10, 400
MIN_ROWS, MAX_ROWS = 4, 150
MAX_FRAME_BYTES = 64 * 1024  # a paste larger than this is refused (the socket closes with 1009)
MAX_CONTROL_BYTES = 4096
TAB_RE = re.compile(r"^(main|tab[2-8])$")


def clamp_size(cols, rows) -> tuple[int, int] | None:
    """Validate a resize request; None when it is not two integers."""
    try:
        cols, rows = int(cols), int(rows)
    except (TypeError, ValueError):
        return None
    return max(MIN_COLS, min(MAX_COLS, cols)), max(MIN_ROWS, min(MAX_ROWS, rows))


def valid_tab(tab: str | None) -> str | None:
    tab = tab or "main"
    return tab if TAB_RE.match(tab) else None


def tmux_command(tab: str, *, observe: bool) -> list[str]:
    """The shell's home: a tmux session per tab, so a reload re-attaches to the same shell and
    screen. Observers attach read-only and do not change the student's window size."""
    if observe:
        return ["tmux", "-u", "attach-session", "-f", "read-only,ignore-size", "-t", tab]
    # The lab image's berth-home-init (idempotent) fills the tmpfs home from /etc/skel first.
    return [
        "sh",
        "-c",
        'command -v berth-home-init >/dev/null && berth-home-init 2>/dev/null; cd; exec tmux -u new-session -A -s "$0"',
        tab,
    ]


class FlowControl:
    """Bounds the bytes in flight to the browser. The page acknowledges what xterm.js has drawn;
    above `high` unacknowledged bytes we stop reading the TTY (the program in the sandbox then
    blocks on write, as in a real terminal) until acknowledgements bring it under `low`."""

    def __init__(self, high: int = 256 * 1024, low: int = 64 * 1024):
        self.high, self.low = high, low
        self.unacked = 0
        self._open = asyncio.Event()
        self._open.set()

    def sent(self, n: int) -> None:
        self.unacked += n
        if self.unacked >= self.high:
            self._open.clear()

    def acked(self, n: int) -> None:
        self.unacked = max(0, self.unacked - max(0, n))
        if self.unacked <= self.low:
            self._open.set()

    @property
    def paused(self) -> bool:
        return not self._open.is_set()

    async def wait(self) -> None:
        await self._open.wait()


class AsciicastRecorder:
    """Writes asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/) with a size cap.

    Output bytes are decoded with an incremental UTF-8 decoder, so a character split across two
    reads is kept whole. Lines are buffered and written by `flush` (the caller runs it off the
    event loop); once the cap is reached the recording stops and is marked truncated.
    """

    def __init__(self, path: Path, *, cols: int, rows: int, max_bytes: int, title: str = "", record_input: bool = True):
        self.path, self.max_bytes, self.record_input = path, max_bytes, record_input
        self.started = time.monotonic()
        self._out = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._in = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending: list[str] = []
        self.pending_bytes = 0
        self.size = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self.truncated = False
        header = {
            "version": 2,
            "width": cols,
            "height": rows,
            "timestamp": int(time.time()),
            "env": {"TERM": "xterm-256color", "SHELL": "/bin/bash"},
        }
        if title:
            header["title"] = title
        self._add(json.dumps(header) + "\n")

    def _add(self, line: str) -> None:
        if self.truncated:
            return
        if self.size + len(line) > self.max_bytes:
            self.truncated = True
            return
        self._pending.append(line)
        self.size += len(line)
        self.pending_bytes += len(line)

    def _event(self, kind: str, text: str) -> None:
        if text:
            self._add(json.dumps([round(time.monotonic() - self.started, 6), kind, text]) + "\n")

    def output(self, data: bytes) -> None:
        self._event("o", self._out.decode(data))

    def input(self, data: bytes) -> None:
        if self.record_input:
            self._event("i", self._in.decode(data))

    def resize(self, cols: int, rows: int) -> None:
        self._event("r", f"{cols}x{rows}")

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    def take(self) -> str:
        """What is buffered, for `write` (take on the event loop, write in a thread, in order)."""
        chunk, self._pending, self.pending_bytes = "".join(self._pending), [], 0
        return chunk

    def write(self, chunk: str) -> None:
        """Append to the file (blocking)."""
        if not chunk:
            return
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(chunk)
