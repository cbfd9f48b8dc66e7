"""One process at a time works on a run folder: a claim held as an exclusive lock on a file beside the folder.

Every compare command claims a run before it trains or evaluates it, and leaves a run that another process has
claimed to that process, so two commands on the same spec (on one machine, or on several that share the log root)
never train the same run at the same time. The claim is an ``flock`` on ``<run folder>.lock``, which the operating
system releases when the process holding it ends, however it ends: a killed command leaves no stale claim. The
training process inherits the claim's file descriptor, so a run stays claimed while its training process lives, even
after the process that started it died. On NFS, Linux emulates ``flock`` with POSIX locks, which a child process does
not inherit; there the claim lasts as long as the process that took it.
"""

from __future__ import annotations

import fcntl
import os
import pathlib
import socket
import time
from types import TracebackType

LOCK_SUFFIX = ".lock"
"""Suffix of the claim file beside a run folder (``<label>/seed_<n>.lock``); the file stays after the claim ends."""

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
"""Format of the time a claim began, as the claim file records it."""


class RunClaim:
    """An exclusive claim on one run folder; use as a context manager around :meth:`acquire`."""

    def __init__(self, run_dir: pathlib.Path) -> None:
        """Prepare the claim of ``run_dir`` (nothing is locked yet)."""
        self.path = run_dir.with_name(run_dir.name + LOCK_SUFFIX)
        self._file = None

    def acquire(self) -> bool:
        """Claim the run without waiting; return whether this process holds it now.

        The claim file records who holds it (:meth:`holder`).
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = open(self.path, "a+")
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            return False
        file.seek(0)
        file.truncate()
        file.write(f"host {socket.gethostname()}, process {os.getpid()}, since {time.strftime(TIME_FORMAT)}\n")
        file.flush()
        self._file = file
        return True

    def fileno(self) -> int:
        """Return the file descriptor that holds the claim, for a child process to inherit."""
        if self._file is None:
            raise RuntimeError(f"{self.path} is not claimed by this process.")
        return self._file.fileno()

    def release(self) -> None:
        """End this process's hold on the claim (a child that inherited it keeps it until it exits)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def holder(self) -> str:
        """Return who holds the claim, as its file records it (empty when nobody ever did)."""
        return self.path.read_text().strip() if self.path.is_file() else ""

    def __enter__(self) -> RunClaim:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()


def is_claimed(run_dir: pathlib.Path) -> bool:
    """Return whether another process holds the claim of ``run_dir`` at this moment."""
    with RunClaim(run_dir) as claim:
        return not claim.acquire()
