"""Beyond one FAQ question: conversation acts, follow-ups, bare topics and two questions."""

from __future__ import annotations

import pytest

from faq.kb import load_knowledge_base
from faq.matcher import Matcher

KB = load_knowledge_base()


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(KB)


@pytest.mark.parametrize(
    ("act_id", "text"),
    [(act.id, text) for act in KB.acts for text in act.phrasings],
)
def test_every_example_in_the_acts_file_is_recognised(
    matcher: Matcher, act_id: str, text: str
) -> None:
    assert matcher.match(text).act == act_id


@pytest.mark.parametrize(
    "text",
    [
        "제 환불 신청 어떻게 됐어요?",
        "이미 신청했는데 언제 돼요",
        "환불 신청 철회할게요",
        "접수한 거 취소해 주세요",
        "어제 접수한 거 없던 걸로 해주세요",
    ],
)
def test_a_filed_request_never_gets_the_how_to_cancel_answer(matcher: Matcher, text: str) -> None:
    result = matcher.match(text)
    assert result.act in ("request_status", "withdraw_request")
    assert result.intent != "how_to_cancel"
    assert result.decision == "fallback"


def test_a_status_question_that_also_asks_a_faq_question_keeps_that_answer(
    matcher: Matcher,
) -> None:
    result = matcher.match("마이캐쉬 환불 신청했는데 아직 적립이 안 됐어요")
    assert result.act == "request_status"
    assert (result.decision, result.intent) == ("answer", "mycash_refund")


def test_an_angry_message_with_a_real_question_keeps_its_answer(matcher: Matcher) -> None:
    result = matcher.match("장난하냐 충전한 돈은 환불 되는 거냐고")
    assert result.act == "complaint"
    assert (result.decision, result.intent) == ("answer", "sms_charge_refund")


@pytest.mark.parametrize(
    ("text", "act"),
    [
        ("상담원 연결", "human_agent"),
        ("사람이랑 얘기할래요", "human_agent"),
        ("고객센터 전화번호", "human_agent"),
        ("소비자원에 신고할게요", "complaint"),
    ],
)
def test_asking_for_a_person_or_complaining_is_an_act_not_an_answer(
    matcher: Matcher, text: str, act: str
) -> None:
    result = matcher.match(text)
    assert result.act == act
    assert result.decision == "fallback"


@pytest.mark.parametrize(
    "text",
    [
        "알림톡 서비스 취소하고 싶어요",
        "고객센터에 전화 안 하고 혼자 취소할 수 있나요",
        "카카오 알림톡 신청을 철회하고 싶습니다",
        "안녕하세요",
        "감사합니다",
    ],
)
def test_ordinary_questions_and_greetings_are_no_act(matcher: Matcher, text: str) -> None:
    assert matcher.match(text).act is None


@pytest.mark.parametrize(
    "text",
    [
        "R-20261130-0004 철회해 주세요",
        "알림톡 환불 접수했는데 다시 필요하게 됐어요. 접수 건 철회 부탁드려요.",
        "어제 취소 신청했는데 원장님이 계속 쓰자고 하셔서요. 신청한 거 거둬들일 수 있나요?",
        "취소신청 잘못했어요 원래대로 돌려주세요",
    ],
)
def test_a_filed_request_taken_back_in_plain_words_is_a_withdrawal(
    matcher: Matcher, text: str
) -> None:
    result = matcher.match(text)
    assert result.act == "withdraw_request"
    assert result.intent != "how_to_cancel"


@pytest.mark.parametrize(
    "text",
    ["어제 신청한 알림톡 무르고 싶어요", "알림톡 신청했는데 계속 쓸지 고민이에요 취소하는 법"],
)
def test_undoing_the_service_itself_is_cancelling_not_withdrawing(
    matcher: Matcher, text: str
) -> None:
    """Told "no request to withdraw", this customer would not learn how to cancel."""
    result = matcher.match(text)
    assert result.act is None
    assert (result.decision, result.intent) == ("answer", "how_to_cancel")


@pytest.mark.parametrize(
    ("previous", "text", "intent_id"),
    [
        ("mycash_refund", "그럼 계좌이체는요?", "bank_transfer_refund"),
        ("sms_charge_refund", "그건 얼마나 돌려받아요?", "sms_charge_refund"),
        ("mycash_refund", "그건 며칠 걸려요?", "mycash_refund"),
        ("bank_transfer_refund", "그럼 남편 명의는요?", "bank_transfer_refund"),
    ],
)
def test_a_short_follow_up_is_read_with_the_answer_just_given(
    matcher: Matcher, previous: str, text: str, intent_id: str
) -> None:
    result = matcher.match(text, previous=previous)
    assert (result.decision, result.intent) == ("answer", intent_id)


def test_without_the_previous_answer_a_vague_follow_up_is_not_answered(
    matcher: Matcher,
) -> None:
    assert matcher.match("그건 며칠 걸려요?").decision == "fallback"


@pytest.mark.parametrize(
    "text",
    [
        "회원가입은 어떻게 하나요?",
        "도메인 연장은요?",
        "수수료는요?",
        "비밀번호 변경은 어떻게 해요?",
    ],
)
def test_a_short_question_with_a_subject_of_its_own_is_not_a_follow_up(
    matcher: Matcher, text: str
) -> None:
    assert matcher.match(text, previous="sms_charge_refund").decision == "fallback"


@pytest.mark.parametrize(
    ("previous", "text"), [("mycash_refund", "며칠 걸려요?"), ("mycash_refund", "언제 들어와요?")]
)
def test_a_short_question_without_a_subject_follows_the_answer(
    matcher: Matcher, previous: str, text: str
) -> None:
    result = matcher.match(text, previous=previous)
    assert (result.decision, result.intent) == ("answer", previous)


def test_a_follow_up_about_another_topic_still_falls_back(matcher: Matcher) -> None:
    assert matcher.match("그럼 sms 충전은 어떻게 해요?", previous="sms_charge_refund").decision == (
        "fallback"
    )


@pytest.mark.parametrize(
    ("text", "intent_id"),
    [
        ("계좌이체", "bank_transfer_refund"),
        ("마이캐쉬", "mycash_refund"),
        ("마이캐시요", "mycash_refund"),
        ("환불 목록", "not_in_list"),
        ("충전금", "sms_charge_refund"),
    ],
)
def test_a_bare_topic_word_gets_that_topics_answer(
    matcher: Matcher, text: str, intent_id: str
) -> None:
    result = matcher.match(text)
    assert (result.decision, result.intent) == ("answer", intent_id)


def test_two_questions_get_two_answers_in_the_order_asked(matcher: Matcher) -> None:
    results = matcher.match_all("SMS 충전금도 환불돼요? 그리고 마이캐쉬는 며칠 걸려요?")
    assert [r.intent for r in results] == ["sms_charge_refund", "mycash_refund"]
    assert all(r.decision == "answer" for r in results)
    results = matcher.match_all("계좌이체 환불은 어떻게 받아요? 목록에 서비스가 안 보이는 건 왜죠?")
    assert [r.intent for r in results] == ["bank_transfer_refund", "not_in_list"]


@pytest.mark.parametrize(
    "text",
    [
        "알림톡 취소하고 싶어요",
        "7일 지나면 취소 아예 안 되는 거예요? 저 신청하고 8일째인데요",
        "확인증이 뭐예요? 다른 사람 통장으로 환불받으려면 뭘 준비해야 하나요",
        "충전한 20만원은 어떻게 돼요? 서비스 해지하면 그 돈은 어디로 가요",
    ],
)
def test_one_question_gets_one_result_however_long(matcher: Matcher, text: str) -> None:
    results = matcher.match_all(text)
    assert len(results) == 1
    assert results[0] == matcher.match(text)


def test_match_all_never_returns_more_than_two(matcher: Matcher) -> None:
    text = "충전금도 환불돼요? 마이캐쉬는 며칠 걸려요? 계좌이체는 명의가 달라도 돼요?"
    assert len(matcher.match_all(text)) == 2
