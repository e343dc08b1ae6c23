"""Pacing messages into one Telegram group: a sliding window counted from finished sends."""

from __future__ import annotations

import pytest

from bot.staff.pacing import Pacer
from tests.support.fake_time import FakeTime


async def test_the_pacer_lets_a_burst_through_then_spaces_the_rest_by_the_window():
    t = FakeTime()
    pacer = Pacer(20, 60.0, clock=t.clock, sleep=t.sleep)
    started: list[float] = []
    for _ in range(45):
        async with pacer.slot():
            started.append(t.now)
            t.now += 0.1  # each send takes a little while

    assert started[19] - started[0] < 2.0  # the first 20 at once
    for first, twenty_first in zip(started, started[20:], strict=False):
        assert twenty_first - first >= 60.0  # never 21 in a window
    assert started[-1] - started[0] < 2 * 60.0 + 5  # and no slower than that


async def test_a_send_is_counted_from_when_it_finished():
    t = FakeTime()
    pacer = Pacer(1, 10.0, clock=t.clock, sleep=t.sleep)
    async with pacer.slot():
        t.now += 3.0  # a slow send
    async with pacer.slot():
        pass
    assert t.slept == [10.0]


async def test_flood_control_holds_every_slot_for_the_time_telegram_asked():
    t = FakeTime()
    pacer = Pacer(20, 60.0, clock=t.clock, sleep=t.sleep)
    pacer.penalise(7.0)
    assert pacer.wait_needed() == pytest.approx(7.0)
    await pacer.until_free()
    assert pacer.wait_needed() == 0.0


def test_a_pacer_needs_a_positive_limit_and_window():
    with pytest.raises(ValueError):
        Pacer(0, 60.0)
    with pytest.raises(ValueError):
        Pacer(20, 0)
