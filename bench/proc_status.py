"""Memory figures of a running process, read from /proc/<pid>/status (Linux only)."""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType


def _status_mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mib(pid: int) -> float:
    """The process's resident-memory high-water mark (`VmHWM`) since it started."""
    return _status_mib(pid, "VmHWM")


def rss_mib(pid: int) -> float:
    """The process's resident memory now (`VmRSS`)."""
    return _status_mib(pid, "VmRSS")


class RssSampler:
    """Polls a process's `VmRSS` from a background thread while the `with` block runs.

    `VmHWM` never goes down, so it cannot show that one step stayed flat after an earlier step
    peaked higher; the largest sample taken during the step can.
    """

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def peak(self) -> float:
        return max(self.samples, default=float("nan"))

    def peak_by_half(self) -> tuple[float, float]:
        """The largest sample in the first and in the second half of the block's duration."""
        middle = len(self.samples) // 2
        first, second = self.samples[:middle], self.samples[middle:]
        return max(first, default=float("nan")), max(second, default=float("nan"))

    def _run(self) -> None:
        while True:
            self.samples.append(rss_mib(self.pid))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(rss_mib(self.pid))
