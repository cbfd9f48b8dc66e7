"""Progress of a comparison: one line per job event, and an overall bar with an estimate of the time left.

On a terminal the bar stays on the last line and is redrawn in place; in a log file (not a terminal) it is printed
as a line of its own whenever a job ends.
"""

from __future__ import annotations

import collections
import sys
import time
from collections.abc import Callable, Iterable
from typing import Protocol, TextIO

BAR_WIDTH = 24
"""Characters of the bar itself."""

SECONDS_PER_MINUTE = 60.0

CLEAR_LINE = "\r\033[K"
"""Moves a terminal's cursor to the start of its line and clears the line (the bar's)."""


class Timed(Protocol):
    """What the progress needs of a job: its name and kind (:class:`~genpo_ext.experiments.scheduler.Job`)."""

    name: str
    kind: str


def seconds_left(
    durations: dict[str, list[float]], remaining: dict[str, int], running: Iterable[tuple[str, float]], slots: int
) -> float | None:
    """Estimate the seconds until every job has ended.

    Each job not yet ended is expected to take the mean duration of the ended jobs of its kind, a running one less
    what it has run already (never below zero); the sum is spread over ``slots`` jobs at a time, or over fewer when
    fewer jobs are left.

    Args:
        durations: Seconds each ended job of each kind took.
        remaining: Jobs of each kind that have not ended, running ones included.
        running: Kind and seconds run so far of each running job.
        slots: Jobs that run at the same time.

    Returns:
        The estimate, or None while some kind with jobs left has no ended job to take its duration from.
    """
    if any(count and not durations.get(kind) for kind, count in remaining.items()):
        return None
    mean = {kind: sum(values) / len(values) for kind, values in durations.items() if values}
    work = sum(mean[kind] * count for kind, count in remaining.items() if count)
    work -= sum(min(elapsed, mean[kind]) for kind, elapsed in running)
    jobs_left = sum(remaining.values())
    return work / max(1, min(slots, jobs_left)) if jobs_left else 0.0


def format_minutes(seconds: float) -> str:
    """Return ``seconds`` as minutes with one decimal, e.g. ``"4.2 min"``."""
    return f"{seconds / SECONDS_PER_MINUTE:.1f} min"


class Progress:
    """Prints the lines of a comparison's jobs and keeps its overall progress bar."""

    def __init__(
        self,
        slots: int,
        prefix: str = "[compare]",
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Start counting.

        Args:
            slots: Jobs that run at the same time, for the estimate of the time left.
            prefix: Start of every line.
            stream: Where to print (default: standard output); the bar is redrawn in place when it is a terminal.
            clock: Seconds of a monotonic clock.
        """
        self.slots = slots
        self.prefix = prefix
        self.stream = stream or sys.stdout
        self.clock = clock
        self.interactive = self.stream.isatty()
        self.start = clock()
        self.total = self.done = 0
        self.remaining: collections.Counter[str] = collections.Counter()
        self.durations: dict[str, list[float]] = collections.defaultdict(list)
        self.started: dict[str, tuple[str, float]] = {}
        self.waiting: set[str] = set()

    def add(self, jobs: Iterable[Timed]) -> None:
        """Count jobs that are to run."""
        for job in jobs:
            self.total += 1
            self.remaining[job.kind] += 1
        self._redraw()

    def note(self, job: Timed, text: str) -> None:
        """Print what a job reports; its first report marks its start."""
        self.waiting.discard(job.name)
        self.started.setdefault(job.name, (job.kind, self.clock()))
        self.line(f"{job.name}: {text}")

    def wait(self, job: Timed, text: str) -> None:
        """Print why a job waits, once per wait."""
        if job.name not in self.waiting:
            self.waiting.add(job.name)
            self.line(f"{job.name}: {text}")

    def finish(self, job: Timed, lines: list[str]) -> None:
        """Count a job as ended, taking its duration from its start, and print the lines that report its result."""
        kind, start = self.started.pop(job.name, (job.kind, None))
        if start is not None:
            self.durations[kind].append(self.clock() - start)
        self.remaining[job.kind] -= 1
        self.done += 1
        for text in lines:
            self.line(text)
        if not self.interactive:
            print(f"{self.prefix} {self.bar()}", file=self.stream, flush=True)

    def line(self, text: str) -> None:
        """Print one line above the bar."""
        clear = CLEAR_LINE if self.interactive else ""
        print(f"{clear}{self.prefix} {text}", file=self.stream, flush=True)
        self._redraw()

    def bar(self) -> str:
        """Return the bar: jobs ended out of all, running and waiting ones, time so far and left."""
        filled = BAR_WIDTH * self.done // max(1, self.total)
        now = self.clock()
        running = [(kind, now - start) for kind, start in self.started.values()]
        left = seconds_left(self.durations, self.remaining, running, self.slots)
        estimate = "time left unknown until a job of each kind ended"
        if left is not None:
            estimate = f"{format_minutes(left)} left"
        waiting = f", {len(self.waiting)} waiting for another process" if self.waiting else ""
        return (
            f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {self.done}/{self.total} jobs done, {len(running)} running"
            f"{waiting}; {format_minutes(now - self.start)} so far, {estimate}"
        )

    def close(self) -> None:
        """End the bar's line."""
        if self.interactive:
            print(file=self.stream, flush=True)

    def _redraw(self) -> None:
        """Draw the bar in place on a terminal."""
        if self.interactive:
            print(f"{CLEAR_LINE}{self.prefix} {self.bar()}", end="", file=self.stream, flush=True)
