"""A monotonic clock and a sleep for tests of pacing and retries: time moves only when the code
under test sleeps, so waits are checked exactly and take no real time."""

from __future__ import annotations


class FakeTime:
    """A clock and a sleep that only move when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
