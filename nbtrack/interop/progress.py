"""A progress bar for long imports and exports: on a terminal only (never in logs or pipes)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``advance()`` per item; redraws at most 10 times a second on ``stream`` when it is a TTY."""

    def __init__(self, total: int | None, label: str, stream: TextIO | None = None) -> None:
        self.total, self.label, self.done = total, label, 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self._drawn = 0.0
        self._started = time.monotonic()

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if self.enabled and (now - self._drawn >= 0.1 or self.done == self.total):
            self._drawn = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = now - self._started
        if self.total:
            share = min(1.0, self.done / self.total)
            bar = "#" * int(share * 30)
            eta = f", {elapsed / share - elapsed:.0f} s left" if 0 < share < 1 else ""
            text = f"\r{self.label} [{bar:<30}] {self.done}/{self.total}{eta}"
        else:
            text = f"\r{self.label}: {self.done} runs, {elapsed:.0f} s"
        self.stream.write(text)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.done:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
