"""Housekeeping a running bot does by itself: the retention policy, once a day."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from core.usecases import Helpdesk

log = logging.getLogger(__name__)

DAY_SECONDS = 24 * 3600.0


async def prune_daily(
    helpdesk: Helpdesk, keep_days: int, stop: asyncio.Event, interval: float = DAY_SECONDS
) -> None:
    """Apply the retention policy now and then once per `interval` until `stop` is set.

    `keep_days` 0 keeps everything. A failed round is logged and tried again the next day.
    """
    if keep_days <= 0:
        return
    while not stop.is_set():
        try:
            removed = await helpdesk.reports.prune(keep_days)
            if any(removed.values()):
                log.info("retention (%d days): removed %s", keep_days, removed)
        except Exception:
            log.exception("retention round failed; will try again")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
