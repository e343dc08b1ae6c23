"""Conversations as data: every `*.toml` file beside this module is one story, run turn by turn
against the real engine, matcher and a real database (a SQLite file, then PostgreSQL).

A story file:

    name = "..."
    link = { a = "hong01" }           # chat name -> customer linked before the first turn
    [[turn]]
    chat = "a"                        # optional, default "a"
    say = "/refund"                   # text typed, or:
    press = "다음 진행"                 # the label of a button shown to that chat last turn, or:
    press_payload = "g:refund"        # a raw payload (stale or forged buttons), or:
    replay = { from = "a", label = "취소/환불 신청" }  # a button some chat saw earlier, or:
    upload = { file_id = "…", kind = "document", file_name = "…", mime_type = "…" }
    open = true                       # the customer opens the chat again (a new session)
    restart = true                    # before the turn: a new engine on the same database
    agent = ["approve", "R-…"]        # before the turn: an agent's decision (reject: + reason)
    advance_minutes = 31              # before the turn: move the clock on
    expect = ["fragment", ...]        # every fragment appears in the replies
    absent = ["fragment", ...]        # none appears
    buttons = ["label", ...]          # these button labels are offered
    [end]
    requests = 1                      # requests in the database afterwards
    statuses = ["submitted"]          # their statuses, oldest first
    inquiries = 1                     # customer-centre inquiries filed
    inquiry_attachments = ["file id"] # file ids attached to them
    inquiry_context = ["fragment"]    # fragments of the first inquiry's context for the agent
    inquiry_transcript = ["fragment"] # in its last turns (and inquiry_transcript_absent)
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import assemble
from bot.dialogue import Button, Engine, Event, Opened, Press, Reply, TextInput, Upload
from core.storage import Database
from core.usecases import Helpdesk
from tests.conftest import OpenDb

pytestmark = pytest.mark.both_backends

HERE = Path(__file__).parent
STORIES = sorted(HERE.glob("*.toml"))
START = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)  # 10:00 KST, Saturday 28 November 2026


class Clock:
    """A clock the story can move on."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def _engine(db: Database, clock: Clock) -> Engine:
    return assemble(db, channel="story", clock=clock).engine


def _find(buttons: list[Button], label: str, where: str) -> Button:
    for button in buttons:
        if button.label == label:
            return button
    offered = [b.label for b in buttons]
    raise AssertionError(f"{where}: no button {label!r}; offered {offered}")


@pytest.mark.parametrize("path", STORIES, ids=[p.stem for p in STORIES])
async def test_story(path: Path, open_db: OpenDb) -> None:
    """Run one conversation story and check every reply and the database afterwards."""
    story: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))  # noqa: ASYNC240
    clock = Clock(START)
    db = await open_db()
    helpdesk = Helpdesk(db, clock)
    await helpdesk.customers.import_file((HERE / "customers.json").read_bytes())
    for chat, customer_id in story.get("link", {}).items():
        code = await helpdesk.linking.issue_code(customer_id)
        await helpdesk.linking.redeem(f"story:{chat}", code.code)
    engine = _engine(db, clock)
    shown: dict[str, list[Button]] = {}
    history: dict[str, list[Button]] = {}
    try:
        for number, turn in enumerate(story["turn"], start=1):
            chat = turn.get("chat", "a")
            where = f"{path.name} turn {number}"
            if turn.get("restart"):
                await db.close()
                db = await open_db()
                engine = _engine(db, clock)
            if "advance_minutes" in turn:
                clock.now += timedelta(minutes=turn["advance_minutes"])
            if "agent" in turn:
                action, number, *why = turn["agent"]
                await getattr(engine.helpdesk.requests, action)(number, "story-agent", *why)
            if "say" in turn:
                event: Event = TextInput(turn["say"])
            elif "press" in turn:
                event = Press(_find(shown.get(chat, []), turn["press"], where).payload)
            elif "press_payload" in turn:
                event = Press(turn["press_payload"])
            elif "upload" in turn:
                event = Upload(**turn["upload"])
            elif turn.get("open"):
                event = Opened()
            else:
                source = turn["replay"]
                event = Press(_find(history[source["from"]], source["label"], where).payload)
            replies: list[Reply] = await engine.handle(f"story:{chat}", event)
            text = "\n".join(r.text for r in replies)
            labels = [b.label for r in replies for b in r.flat_buttons()]
            for fragment in turn.get("expect", []):
                assert fragment in text, f"{where}: {fragment!r} not in reply:\n{text}"
            for fragment in turn.get("absent", []):
                assert fragment not in text, f"{where}: {fragment!r} in reply:\n{text}"
            for label in turn.get("buttons", []):
                assert label in labels, f"{where}: no button {label!r}; offered {labels}"
            for label in turn.get("no_buttons", []):
                assert label not in labels, f"{where}: unexpected button {label!r}"
            assert "처리 중 문제가 생겼어요" not in text, f"{where}: the engine failed:\n{text}"
            shown[chat] = [b for r in replies for b in r.flat_buttons()]
            history.setdefault(chat, []).extend(shown[chat])
        end = story.get("end", {})
        requests = await engine.helpdesk.requests.list()
        if "requests" in end:
            assert len(requests) == end["requests"], [r.number for r in requests]
        if "statuses" in end:
            assert [r.status.value for r in requests] == end["statuses"]
        if "services" in end:
            assert [r.service_id for r in requests] == end["services"]
        inquiries = await engine.helpdesk.inquiries.list()
        if "inquiries" in end:
            assert len(inquiries) == end["inquiries"]
        if "inquiry_attachments" in end:
            attached = [a.file_id for i in inquiries for a in i.attachments]
            assert attached == end["inquiry_attachments"]
        for fragment in end.get("inquiry_context", []):
            assert fragment in inquiries[0].context, inquiries[0].context
        transcript = "\n".join(inquiries[0].transcript) if inquiries else ""
        for fragment in end.get("inquiry_transcript", []):
            assert fragment in transcript, transcript
        for fragment in end.get("inquiry_transcript_absent", []):
            assert fragment not in transcript, transcript
        for request in requests:
            _, events = await engine.helpdesk.requests.show(request.number)
            assert events and events[0].action == "submitted", "a request without its trail"
    finally:
        await db.close()


def test_there_are_stories() -> None:
    """The story runner must never silently run nothing."""
    assert len(STORIES) >= 10
