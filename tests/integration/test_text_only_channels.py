"""Channels a customer cannot send a file to (the terminal chat, KakaoTalk): the 확인증 for a
refund to another person's account is asked for on the 1:1 board, and the inquiry is filed here."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.app import assemble
from bot.dialogue import Press, Reply, TextInput
from core.calendar import fixed_clock
from core.storage import Database

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # 12:00 KST, day 3 of the demo services


def press(replies: list[Reply], starts: str) -> Press:
    for reply in replies:
        for button in reply.flat_buttons():
            if button.label.startswith(starts):
                return Press(button.payload)
    raise AssertionError(f"no button {starts!r} in {[r.text for r in replies]}")


def said(replies: list[Reply]) -> str:
    return "\n".join(reply.text for reply in replies)


def labels(replies: list[Reply]) -> list[str]:
    return [button.label for reply in replies for button in reply.flat_buttons()]


@pytest.mark.parametrize("channel", ["console", "kakao"])
async def test_the_confirmation_goes_to_the_board_and_the_inquiry_is_filed_here(
    db: Database, demo_bytes: bytes, channel: str
) -> None:
    app = assemble(db, channel=channel, clock=fixed_clock(NOW))
    await app.helpdesk.customers.import_file(demo_bytes)
    code = await app.helpdesk.linking.issue_code("hong01")
    chat = f"{channel}:1"
    await app.engine.handle(chat, TextInput(f"/start {code.code}"))

    async def say(text: str) -> list[Reply]:
        return await app.engine.handle(chat, TextInput(text))

    async def tap(replies: list[Reply], starts: str) -> list[Reply]:
        return await app.engine.handle(chat, press(replies, starts))

    replies = await tap(await say("/refund"), "SMS-1002")
    replies = await tap(await tap(replies, "다음 진행"), "폐업")
    replies = await tap(await say("폐업했어요"), "KB국민은행")
    await say("123456-78-901234")
    replies = await tap(await say("홍길순"), "확인증 첨부해 문의 남기기")
    replies = await say("어머니 명의 계좌로 받고 싶어요")
    assert "이 채팅에서는 파일을 받을 수 없어요" in said(replies)
    assert "1:1문의게시판에 확인증을 첨부해 주세요" in said(replies)
    assert "문의 접수하기" in labels(replies) and "확인증 없이 접수하기" not in labels(replies)
    assert "사진이나 파일로" not in said(replies)  # never asks for what it cannot receive

    again = await say("확인증은 어디로 보내요?")
    assert "[문의 접수하기]를 누르신 뒤" in said(again)

    filed = await tap(again, "문의 접수하기")
    assert "고객센터 문의가 접수되었어요" in said(filed)
    [inquiry] = await app.helpdesk.inquiries.list()
    assert inquiry.attachments == ()
