"""Questions answered from the knowledge base: answer, clarify or fall back; 👍/👎; small talk."""

from __future__ import annotations

import re

from bot import texts
from bot.dialogue import acts
from bot.dialogue.events import rows
from bot.dialogue.flow import State
from bot.dialogue.menus import (
    CONTACT,
    HANDOFF,
    OTHER_QUESTION,
    START_REFUND,
    action_button,
    feedback_row,
    topic_button,
    topic_buttons,
)
from bot.dialogue.services import not_cancellable_text, refund_amounts_text
from bot.dialogue.turn import Turn
from core.text import redact, squash
from faq.matcher import MatchResult

PERSONAL_INTENTS = ("not_in_list", "past_deadline")
"""Answers that list the linked customer's own services that cannot be cancelled."""

_AMOUNT = re.compile(r"얼마|금액|몇\s*원|액수|how much")


_SMS_SENT = re.compile(
    r"(?:한|두|세|네|몇|여러|\d+)\s*(?:통|건|개)\s*(?:을|를|정도|만|쯤|밖에|이나|가량)?\s*"
    r"(?!안|못)(?:보냈|보내\s*봤|보내봤|보내버|발송했|발송됐|나갔|썼|사용했|쐈|날렸)"
    r"|(?:이미|벌써|테스트로|시험\s*삼아)\s*(?:sms|문자)?\s*(?:를|을)?\s*(?:보냈|발송했|썼)",
    re.IGNORECASE,
)


def says_sms_sent(question: str) -> bool:
    """Whether the customer says SMS went out ("테스트로 한 통 보냈어요"), not that none did
    ("한 통도 안 보냈어요")."""
    return bool(_SMS_SENT.search(question))


def asks_amount(question: str) -> bool:
    """Whether a question asks how much (then a linked customer's own amounts are shown)."""
    return bool(_AMOUNT.search(question))


_GREETINGS = ("안녕", "하이", "hi", "hello", "반가워", "반갑습니다", "헬로")
_THANKS = ("감사", "고마워", "고맙습니다", "땡큐", "thx", "thanks", "thankyou", "ㄱㅅ")
_ACKS = (
    "네",
    "넵",
    "예",
    "응",
    "ㅇㅇ",
    "ㅇㅋ",
    "오케이",
    "ok",
    "okay",
    "알겠",
    "알았",
    "그렇군",
    "그렇구나",
    "아하",
    "아니",
    "아뇨",
    "됐어",
    "괜찮",
    "ㄴㄴ",
    "확인했",
)


def small_talk(text: str) -> str | None:
    """'greeting', 'thanks' or 'ack' (네, 알겠어요, 아니요) for a short message that is only
    that, else None."""
    squashed = re.sub(r"[^\w가-힣ㄱ-ㅎ]", "", squash(text))
    squashed = re.sub(r"(요|용|여|합니다|해요|드려요|드립니다|습니다)$", "", squashed)
    if not squashed or len(squashed) > 8:
        return None
    # NFKC turns compatibility jamo (ㄱㅅ) into conjoining ones: compare like with like.
    for kind, words in (("greeting", _GREETINGS), ("thanks", _THANKS), ("ack", _ACKS)):
        if any(squashed.startswith(squash(word)) for word in words):
            return kind
    return None


def greets(text: str) -> bool:
    """Whether a message opens with a greeting ("안녕하세요 어제 하던 거요")."""
    squashed = squash(text)
    return any(squashed.startswith(squash(word)) for word in _GREETINGS)


async def answer_if_confident(turn: Turn, text: str) -> bool:
    """Answer a question typed at a free-text step only when one FAQ clearly fits."""
    question = redact(text[: turn.deps.limits.max_match_chars])
    result = _match(turn, question)
    if result.decision != "answer" or not result.intent:
        return False
    await _log(turn, question, result.decision, result.intent, result.normalized)
    await answer(turn, result.intent, asked=True, question=question)
    return True


_STATEMENT = re.compile(
    r"(?:었|았|였|했|됐|되었|졌|렸)(?:습니다|어요|어|다|네요|거든요|답니다)[\s.!~ㅠㅜ]*$"
)


def previous_for(turn: Turn, question: str) -> str | None:
    """The last answer's intent, for reading a follow-up ("며칠 걸려요?", "그럼 계좌이체는요?").
    A plain statement of what happened ("가게를 정리하게 되었습니다", "폐업했어요") is no
    follow-up: it was answered with the last FAQ again."""
    if _STATEMENT.search(question.strip()):
        return None
    return turn.data.last_intent


def _match(turn: Turn, question: str) -> MatchResult:
    """The matcher's reading of one question, with today's date and the last answer known."""
    return turn.deps.matcher.match(
        question, today=turn.today, previous=previous_for(turn, question)
    )


def act_of(turn: Turn, text: str) -> str | None:
    """The conversation act a message is (status, withdrawal, a person, anger), if any."""
    question = redact(text[: turn.deps.limits.max_match_chars])
    return _match(turn, question).act


async def _log(turn: Turn, question: str, kind: str, intent: str | None, normalized: str) -> None:
    turn.data.last_q = question
    await turn.deps.helpdesk.faq_log.record(
        chat_id=turn.chat_id,
        kind=kind,
        intent=intent,
        text=question,
        normalized=normalized,
        tx=turn.tx,
    )


Understood = tuple[str, str | None]
"""(the FAQ decision of the first question: answer / clarify / fallback / act, the act if any)."""


async def answer_question(turn: Turn, text: str) -> Understood:
    """Answer free text: an act, one or two FAQ answers, a clarifying question or the fallback.

    The text is redacted before anything else sees it, so a pasted link code or account
    number never reaches the FAQ log, not even in its normalised form.
    """
    question = redact(text[: turn.deps.limits.max_match_chars])
    results = turn.deps.matcher.match_all(
        question, today=turn.today, previous=previous_for(turn, question)
    )
    first = results[0]
    act = await acts.in_context(turn, question, first.act, first.intent)
    if act is not None and (first.decision != "answer" or act != first.act):
        await _log(turn, question, "act", act, first.normalized)
        return "act", act
    if first.act == acts.COMPLAINT:
        acts.apology(turn)  # angry, and still asking something concrete: sorry, then the answer
    answered = [r for r in results if r.decision == "answer" and r.intent]
    if answered:
        for result in answered:
            await _log(turn, result.text, "answer", result.intent, result.normalized)
            await answer(turn, result.intent or "", asked=True, question=question)
        return "answer", first.act
    await _log(turn, question, first.decision, first.intent, first.normalized)
    if first.decision == "clarify" and first.candidates:
        kb = turn.deps.kb
        buttons = [topic_button(kb, c) for c in first.candidates if c in kb.ids]
        turn.say(texts.CLARIFY, rows([*buttons, OTHER_QUESTION]))
        return "clarify", None
    if turn.state is State.IDLE:
        turn.say(texts.FALLBACK, topic_buttons(turn.deps.kb) + ((CONTACT,),))
    return "fallback", None


async def answer(turn: Turn, intent_id: str, asked: bool = False, question: str = "") -> None:
    """The answer of one FAQ intent, personalised for a linked customer where it helps: which
    of their services cannot be cancelled and why, or what they would get back."""
    kb = turn.deps.kb
    intent = kb.get(intent_id)
    text = intent.answer.strip()
    buttons = [b for b in (action_button(kb, a) for a in intent.actions) if b]
    if not asked:
        turn.data.last_q = f"[{intent.title}]"
    turn.data.last_intent = intent_id
    if turn.customer is not None and intent_id in PERSONAL_INTENTS:
        # The late answer also names what can still be cancelled: the customer's own count
        # of the days may be wrong, and the bot's reading of "지난달" a guess.
        personal, blocked, cancellable = await not_cancellable_text(
            turn, with_open=intent_id == "past_deadline"
        )
        if personal:
            text += "\n\n" + personal
        if cancellable and START_REFUND not in buttons:
            buttons.insert(0, START_REFUND)
        if blocked:
            buttons.append(HANDOFF)
    elif intent_id == "sms_charge_refund" and says_sms_sent(question):
        text += "\n\n" + texts.SMS_ALREADY_SENT
        if turn.customer is not None:
            buttons.append(HANDOFF)
    elif turn.customer is not None and asks_amount(question):
        text += "\n\n" + await refund_amounts_text(turn)
    turn.say(text, rows(buttons) + (feedback_row(intent_id),))


async def feedback(turn: Turn, intent_id: str, helpful: bool) -> None:
    """Record 👍/👎 for the last answer."""
    question = turn.data.last_q or ""
    await turn.deps.helpdesk.faq_log.record(
        chat_id=turn.chat_id,
        kind="feedback",
        intent=intent_id,
        text=question,
        normalized=turn.deps.matcher.normalize(question) if question else "",
        helpful=helpful,
        tx=turn.tx,
    )
    if helpful:
        turn.say(texts.THANKS_HELPFUL)
    else:
        turn.say(texts.THANKS_NOT_HELPFUL, topic_buttons(turn.deps.kb) + ((CONTACT,),))
