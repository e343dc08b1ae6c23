"""What a customer gets from the FAQ matcher: answer, clarify or fallback."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faq.kb import Intent, load_knowledge_base
from faq.matcher import Matcher, MatchResult


@lru_cache(maxsize=1)
def matcher() -> Matcher:
    """One matcher for the module (building it is the expensive part)."""
    return Matcher(load_knowledge_base())


TODAY = date(2026, 12, 1)  # the date the corpora's and these messages' ages are read against


def assert_answers(text: str, intent_id: str, today: date | None = None) -> MatchResult:
    result = matcher().match(text, today=today)
    assert (result.decision, result.intent) == ("answer", intent_id), result
    return result


def assert_falls_back(text: str) -> None:
    result = matcher().match(text)
    assert result.decision == "fallback", result
    assert result.intent is None and result.candidates == ()


@pytest.mark.parametrize("intent", load_knowledge_base().intents, ids=lambda i: i.id)
def test_each_seed_question_answers_itself(intent: Intent) -> None:
    result = assert_answers(intent.question, intent.id)
    assert result.candidates == (intent.id,)
    assert result.score >= 80


@pytest.mark.parametrize(
    ("text", "intent_id"),
    [
        ("알림톡 췩소하고 싶어요", "how_to_cancel"),
        ("sms 서비스 취쇼 방법", "how_to_cancel"),
        ("알림톡 환뷸 받고 싶어요", "how_to_cancel"),
        ("마이케시로 결제했는데 환불은요", "mycash_refund"),
        ("계좌이채로 결제했어요 환불 어떻게 받죠", "bank_transfer_refund"),
        ("충젼 금액도 환불 되나요", "sms_charge_refund"),
        ("충천금 환불", "sms_charge_refund"),
        ("알톡 취소 어케함", "how_to_cancel"),
        ("취소 목록에 알림톡이 안 보여요 ㅠㅠ", "not_in_list"),
    ],
)
def test_one_jamo_typos_still_answer(text: str, intent_id: str) -> None:
    assert_answers(text, intent_id)


@pytest.mark.parametrize(
    ("text", "intent_id"),
    [
        ("알림톡취소하는법", "how_to_cancel"),
        ("취소목록에sms서비스가안보여요", "not_in_list"),
        ("sms충전금액도환불되나요", "sms_charge_refund"),
        ("실시간계좌이체결제환불받는법", "bank_transfer_refund"),
        ("열흘전에신청한알림톡취소", "past_deadline"),
    ],
)
def test_questions_without_spaces_answer(text: str, intent_id: str) -> None:
    assert_answers(text, intent_id)


@pytest.mark.parametrize(
    ("text", "intent_id"),
    [
        ("알림톡 ㅎㅂ 어케 해요", "how_to_cancel"),
        ("ㅊㅅ 방법 알려주세요", "how_to_cancel"),
        ("마캐로 결재했는데 환뷸 어케 받아요", "mycash_refund"),
        ("sms refund 하고 싶어요", "how_to_cancel"),
        ("cancel my sms hosting please", "how_to_cancel"),
        ("paid by bank transfer, how do I get a refund", "bank_transfer_refund"),
        ("refund after 2 weeks 가능?", "past_deadline"),
    ],
)
def test_chosung_slang_and_english_answer(text: str, intent_id: str) -> None:
    assert_answers(text, intent_id)


@pytest.mark.parametrize(
    "text",
    [
        # Topping up SMS credit.
        "sms 충전 어떻게 해요?",
        "문자 충전하는 방법 좀",
        # Signing up for AlimTalk.
        "알림톡 가입하려면 어떻게 하나요",
        "카카오 알림톡 신청 방법 알려주세요",
        # SMS price.
        "sms 가격이 얼마예요",
        "문자 한 건당 얼마에요?",
        # Sending failures (even when a refund is mentioned).
        "알림톡 발송이 실패했어요",
        "문자 전송 실패한 건 환불 되나요",
        # Sender-number registration.
        "발신번호 등록은 어디서 해요",
        "sms 발신 번호 등록 방법",
        # Other hosting topics, even with cancel/refund words.
        "도메인 환불 받고 싶어요",
        "웹호스팅 해지 방법",
        "ssl 인증서 취소",
        "이메일 비밀번호 변경",
        # Small talk and noise.
        "안녕하세요",
        "ㅋㅋㅋㅋ",
        "",
        "   ",
    ],
)
def test_near_misses_and_other_topics_fall_back(text: str) -> None:
    assert_falls_back(text)


@pytest.mark.parametrize(
    "text",
    [
        "목록에 웹호스팅은 보이는데 알림톡만 없어요",
        "도메인이랑 메일은 목록에 뜨는데 SMS만 쏙 빠져 있어요",
        "서비스 선택이 안돼요 회색으로 나옴",
        "드롭다운 눌러봐도 알림톡이 없어요",
        "검색창에 SMS 쳐도 결과 없음",
    ],
)
def test_the_cancel_list_described_as_seen_is_the_not_in_list_question(text: str) -> None:
    """Another product seen in the list is context; a greyed or empty control is the list."""
    assert_answers(text, "not_in_list")


@pytest.mark.parametrize(
    "text",
    [
        "웹호스팅이 취소 목록에 안 보여요",
        "발송 버튼이 회색이에요",
        "알림톡 템플릿 검색 결과가 없어요",
    ],
)
def test_other_products_and_other_screens_still_fall_back(text: str) -> None:
    assert_falls_back(text)


@pytest.mark.parametrize(
    "text",
    [
        "SMS 충전금 10만원 추가로 넣으려면 어떻게 해요",
        "마이캐쉬 적립금 소멸되나요",
        "충전금 돌려받는 게 아니라 다른 계정으로 옮기는 건 가능한가요?",
        "엉뚱한 고객한테 알림톡 나갔는데 취소할 수 있나요",
        "내일 아침 9시로 예약문자 걸었는데 시간 잘못 넣었어요 취소 어떻게 해요",
    ],
)
def test_topping_up_moving_credit_and_recalling_a_message_fall_back(text: str) -> None:
    assert_falls_back(text)


@pytest.mark.parametrize(
    "text",
    [
        "문자 한 통 보냈는데 충전금 환불 안되나요",  # "는데 충전" is no typo of a veto word
        "계좌이체 환불 입금 계좌는 어디 입력해요",
    ],
)
def test_refund_questions_near_the_top_up_words_still_answer(text: str) -> None:
    assert matcher().match(text).decision == "answer"


@pytest.mark.parametrize(
    "text",
    [
        "취소/환불 목록에서 알림톡 체크했어요 그다음엔 뭘 눌러요?",
        "사유 목록에 '서비스/상품변경'이 있던데 이건 어떤 상황에 고르는 거예요?",
        "취소할 서비스 선택하는 화면 어딨음",
    ],
)
def test_a_step_of_the_cancel_screen_is_how_to_cancel_not_the_missing_list(text: str) -> None:
    assert_answers(text, "how_to_cancel")


@pytest.mark.parametrize(
    "text",
    [
        "알림톡 취소할까 하다가 그냥 계속 쓰기로 했어요. "
        "대신 문자를 더 충전하고 싶은데 충전은 어디서 해요?",
        "다음 달에 가게를 이전하는데 알림톡 발신 프로필 주소 변경은 어떻게 하나요? "
        "해지할 건 아니고요",
    ],
)
def test_another_topic_asked_beside_a_cancel_word_only_mentioned_falls_back(text: str) -> None:
    assert_falls_back(text)


def test_another_topic_only_mentioned_beside_a_cancel_question_still_answers() -> None:
    assert_answers(
        "쇼핑몰 주문 알림 보내려고 알림톡 신청했어요. "
        "그런데 필요 없어져서 취소하고 싶은데 어떻게 하나요?",
        "how_to_cancel",
    )


@pytest.mark.parametrize("text", ["그 돈은 어디로 가요?", "환불금은 어디로 들어와요?"])
def test_where_the_money_goes_without_the_payment_method_asks_which(text: str) -> None:
    """MyCash credit or the refund account: the payment method decides, so ask it."""
    result = matcher().match(text)
    assert result.decision == "clarify"
    assert set(result.candidates) == {"mycash_refund", "bank_transfer_refund"}


def test_the_payment_method_stated_is_not_replaced_by_the_general_question() -> None:
    assert_answers(
        "알림톡 서비스를 계좌이체로 결제했어요. 어제 신청했고 정리하려고 합니다. "
        "계좌이체로 결제했으면 돌려받을 계좌는 어디에 입력해요?",
        "bank_transfer_refund",
    )


def test_a_veto_word_read_only_through_a_typo_does_not_silence_a_clear_question() -> None:
    """Spaces are gone from the compact text: "하면서 법인" holds "서버" with a final ㅂ. That is
    no exact hit (a veto word ends where a syllable ends), and a veto read only through a typo
    lets the model answer when it is nearly certain."""
    assert_answers(
        "회사 폐업하면서 법인 통장을 없앴어요. 계좌이체로 결제한 거 환불은 어디로 받아요?",
        "bank_transfer_refund",
    )


@pytest.mark.parametrize(
    ("text", "intent_id"),
    [
        ("목록에 도메인이랑 메일만 나와요. 문자 서비스는 어디 있어요?", "not_in_list"),
        ("취소/환불 관리 화면에 카카오알림톡이 아니라 엉뚱한 서비스가 떠요", "not_in_list"),
        (
            "포인트 충전만 하고 그냥 놔뒀는데 서비스 없애면 그 포인트는 증발하나요?",
            "sms_charge_refund",
        ),
    ],
)
def test_what_the_customer_sees_or_fears_names_the_question(text: str, intent_id: str) -> None:
    assert_answers(text, intent_id)


def test_a_cancel_wish_denied_is_no_late_cancellation() -> None:
    assert_falls_back(
        "한 달 전쯤 신청해서 잘 쓰고 있는 보습학원 원장입니다. 해지할 생각은 전혀 없고요, "
        "문자 내용이 길어지면 요금이 달라진다고 해서 여쭤봐요. 단문은 몇 자까지고, 넘으면 장문으로 "
        "바뀌나요?"
    )


@pytest.mark.parametrize(
    ("text", "intent_id"),
    [
        ("발송 실패한 문자도 사용 건수에 들어가나요? 충전금을 받을 수 있는지 때문에 여쭤봐요.",
         "sms_charge_refund"),
        ("계좌 남편꺼 가능?", "bank_transfer_refund"),
        ("사업자 계좌로 돼요?", "bank_transfer_refund"),
    ],
)
def test_failed_sends_as_usage_and_whose_account_are_refund_questions(
    text: str, intent_id: str
) -> None:
    assert_answers(text, intent_id)


@pytest.mark.parametrize(
    "text",
    [
        "마이캐쉬 남은 거 제 통장으로 빼고 싶은데 출금 신청은 어디서 하나요?",
        "SMS 충전을 계좌이체로 하려는데 가상계좌 번호는 어디서 받아요?",
        "마이캐쉬 충전했는데 잔액에 반영이 안 됐어요.",
    ],
)
def test_cashing_out_and_topping_up_are_near_misses(text: str) -> None:
    assert_falls_back(text)


def test_counting_the_seven_days_in_business_days_is_the_deadline_question() -> None:
    assert_answers(
        "18일에 신청했는데 영업일로 세면 아직 7일 안 됐잖아요. 주말은 빼야 하는 거 아니에요?",
        "past_deadline",
        TODAY,
    )


@pytest.mark.parametrize(
    ("text", "intent_id"),
    [
        (
            "신청한지 6일째인데 그냥 지금 정리할게요 어디서 하는지 알려주세요. "
            "아 그리고 이번 달 세금계산서는 안 끊어주셔도 돼요",
            "how_to_cancel",
        ),
        (
            "온라인 쇼핑몰 운영자예요. 회사 명의로 가입하고 대표인 제 개인 계좌에서 이체로 "
            "결제했거든요. 환불을 제 개인 계좌로 받으려면 어떻게 해야 하나요?",
            "bank_transfer_refund",
        ),
        (
            "홈페이지 안내문을 보니까 조건이 두 개던데요. 저는 4일 전에 신청했고 발송 기록도 "
            "없어요. 그럼 혼자서 처리 가능한 거죠? 어디로 가면 되는지만 알려주세요.",
            "how_to_cancel",
        ),
        (
            "보내진 않았고 예약발송만 걸어뒀다가 취소했어요. 이런 경우 충전금은요?",
            "sms_charge_refund",
        ),
    ],
)
def test_a_topic_put_aside_or_the_customers_own_business_is_no_veto(
    text: str, intent_id: str
) -> None:
    assert_answers(text, intent_id)


@pytest.mark.parametrize(
    "text",
    [
        "사무실 총무인데 팀장님이 알림톡 신청한 거 취소하라고 하셔서요. "
        "다음 진행 버튼 누르면 바로 취소되는 건가요?",
        "취소/환불 신청 버튼 누르고 나면 그 뒤 절차는 어떻게 돼요?",
    ],
)
def test_the_cancel_screens_buttons_are_no_status_question(text: str) -> None:
    result = assert_answers(text, "how_to_cancel")
    assert result.act is None


def test_a_service_taken_back_with_its_age_is_no_withdrawal() -> None:
    result = assert_answers(
        "지난 금요일에 신청한 거 무르고 싶어요 아직 아무것도 안 했어요", "how_to_cancel", TODAY
    )
    assert result.act is None
    # A refund request named is still one taken back.
    assert matcher().match("어제 넣은 환불 신청 철회할게요").act == "withdraw_request"


def test_a_service_past_the_limit_settles_a_choice_only_on_the_late_question() -> None:
    """"남은 기간만큼 돌려받을" also reads as the SMS charge; the age settles it."""
    assert_answers(
        "작년에 가입한 SMS 호스팅 해지하고 남은 기간만큼 돌려받을 수 있나요", "past_deadline", TODAY
    )


@pytest.mark.parametrize(
    ("text", "intent_id"),
    [
        (
            "저는 적립금으로 결제한 거라 계좌 정보는 입력 안 해도 되는 거죠? "
            "그럼 환불은 어디로 받게 되나요?",
            "mycash_refund",
        ),
        ("취소/환불 신청 목록에서 서비스 골랐어요. 그다음엔 뭘 누르죠?", "how_to_cancel"),
    ],
)
def test_the_payment_method_stated_and_the_next_step_asked_win(
    text: str, intent_id: str
) -> None:
    assert_answers(text, intent_id)


@pytest.mark.parametrize(
    "text",
    [
        "취소 말고 연장이요. 알림톡 서비스 기간 연장은 어디서 해요?",
        "문자 서비스 견적서를 요청합니다.",
    ],
)
def test_extending_and_quotes_are_near_misses(text: str) -> None:
    assert_falls_back(text)


def test_a_filed_termination_request_taken_back_is_a_withdrawal() -> None:
    result = matcher().match(
        "오늘 아침에 넣은 해약 신청을 취소하고 싶습니다. 문자 서비스는 그대로 두고 싶습니다."
    )
    assert result.act == "withdraw_request"
    assert result.intent != "how_to_cancel"


def test_anger_at_a_person_spoken_to_is_a_complaint_not_a_request_for_one() -> None:
    result = matcher().match("어제 통화한 상담원 태도가 정말 최악이었어요. 말 끊고 한숨 쉬고")
    assert result.act == "complaint"


def test_a_service_applied_for_and_asked_about_is_no_status_question() -> None:
    """"어제 신청했고요" is the service's age; no refund request is named."""
    result = assert_answers(
        "알림톡 서비스를 접으려고요. 어제 신청했고요. 이거 상담원이 확인해야 취소되는 건가요, "
        "제가 화면에서 바로 할 수 있는 건가요?",
        "how_to_cancel",
        TODAY,
    )
    assert result.act is None
    assert matcher().match("어제 환불 신청했는데 아직 소식이 없어요").act == "request_status"


@pytest.mark.parametrize(
    ("text", "act"),
    [
        (
            "신청 넣은 뒤에 생각해보니 아직 쓸 데가 있어서요 그 환불 건 철회 좀요",
            "withdraw_request",
        ),
        ("환불 진행 중인 거 중단시켜 주세요. 저희 계속 씁니다", "withdraw_request"),
        ("어제 신청한 환불, 오늘 중으로 처리될까요?", "request_status"),
    ],
)
def test_a_filed_refund_named_in_other_words_is_still_one(text: str, act: str) -> None:
    assert matcher().match(text, today=TODAY).act == act


@pytest.mark.parametrize(
    "text",
    [
        "테스트로 신청만 해놓고 하나도 안보냈어요 취소 어떻게 해요",
        "서비스 취소하고 싶은데 환불 신청은 어떻게 넣나요",
    ],
)
def test_only_applying_or_asking_how_to_file_is_no_withdrawal(text: str) -> None:
    result = matcher().match(text)
    assert result.act is None
    assert (result.decision, result.intent) == ("answer", "how_to_cancel")


@pytest.mark.parametrize(
    "text",
    [
        "적립금으로 결제했어요. 카드나 계좌로 결제한 게 아니라서 환불 방식이 다를 것 같은데, "
        "취소하면 적립금으로 다시 돌아오나요?",
        "계좌이체로 결제하면 환불 계좌를 입력해야 한다고 들었어요. 저는 마이캐쉬로 결제했는데요, "
        "이 경우에도 환불 받을 때 따로 입력할 정보가 있나요?",
    ],
)
def test_a_payment_method_denied_or_supposed_is_not_the_one_stated(text: str) -> None:
    """The rules alone read it (the model is trained on these writers' messages)."""
    result = Matcher(load_knowledge_base(), classifier=False).match(text)
    assert (result.decision, result.intent) == ("answer", "mycash_refund")


def test_looking_up_a_balance_is_no_refund_question() -> None:
    assert_falls_back("문자 충전금 잔액은 어디서 조회해요?")


def test_whether_a_filed_request_went_through_is_a_status_question() -> None:
    result = matcher().match(
        "문자 서비스 취소 신청 들어간 건 맞죠? 메일도 문자도 안 와서 불안해서요"
    )
    assert result.act == "request_status"
    assert result.intent != "how_to_cancel"


def test_the_charge_lost_is_the_sms_charge_question_not_an_expiry_near_miss() -> None:
    assert_answers(
        "취소하면 이용료만 환불되고 충전한 문자 요금은 그냥 소멸되나요?", "sms_charge_refund"
    )


def test_an_exclude_word_is_exact_not_read_through_a_typo() -> None:
    """"아직이" (still nothing) read through a typo hid the stated age of "아직 안 쓰고 있어요"."""
    result = assert_answers(
        "가입한 지 열이틀 됐는데 아직 안 쓰고 있어요. 해지하면 환불 나오나요?",
        "past_deadline",
        TODAY,
    )
    assert result.act is None


def test_a_real_word_resembling_a_keyword_is_not_taken_for_a_typo() -> None:
    # "최소" (minimum) is one vowel away from "취소" (cancel).
    assert_falls_back("sms 최소 충전 금액이 얼마예요")


def test_a_bare_refund_asks_which_question_is_meant() -> None:
    result = matcher().match("환불")
    assert result.decision == "clarify"
    assert result.intent is None
    assert 2 <= len(result.candidates) <= 3
    assert result.candidates[0] == "how_to_cancel"


@pytest.mark.parametrize(
    "text",
    [
        "2주 전에 신청한 알림톡 취소하고 싶어요",
        "열흘 전에 가입했는데 해지 되나요",
        "지난달에 결제한 sms 서비스 환불 가능해요?",
        "8일 됐는데 취소 가능한가요",
        "신청한 지 3주 지났는데 환불 받을 수 있어요?",
        "7일이 지났는데 취소 안 되나요",
        "일주일 넘었는데 해지 가능?",
        "한 달 전에 신청한 문자 서비스 환불",
    ],
)
def test_cancelling_after_seven_days_is_the_past_deadline_question(text: str) -> None:
    assert_answers(text, "past_deadline")


@pytest.mark.parametrize(
    "text",
    [
        "어제 신청한 알림톡 취소하고 싶어요",
        "3일 전에 가입한 sms 해지할게요",
        "오늘 결제한 알림톡 환불해 주세요",
        "7일 이내면 환불 되나요",
    ],
)
def test_cancelling_within_seven_days_is_the_how_to_cancel_question(text: str) -> None:
    assert_answers(text, "how_to_cancel")


def test_exactly_a_week_is_too_close_to_call_and_asks() -> None:
    result = matcher().match("신청한 지 일주일 됐는데 취소 돼요?")
    assert result.decision == "clarify"
    assert {"how_to_cancel", "past_deadline"} <= set(result.candidates)


def test_waiting_for_a_refund_is_not_a_late_cancellation() -> None:
    assert_answers("마이캐시 환불 신청한 지 10일 지났는데 아직 안 들어왔어요", "mycash_refund")


def test_a_specific_intent_beats_the_general_one() -> None:
    assert_answers("알림톡 취소하면 충전해 둔 돈도 돌려받나요", "sms_charge_refund")
    assert_answers("환불받을 계좌를 남편 명의로 해도 되나요", "bank_transfer_refund")
    assert_answers("취소하려는데 목록에 아무것도 안 나와요", "not_in_list")


def test_two_specific_intents_at_once_ask_instead_of_guessing() -> None:
    result = matcher().match("마이캐쉬로 결제했는데 2주 지났어요 환불 되나요")
    assert result.decision == "clarify"
    assert set(result.candidates[:2]) == {"mycash_refund", "past_deadline"}


def test_result_keeps_the_raw_text_and_shows_the_normalised_one() -> None:
    result = matcher().match("마캐로 결재했는데 환뷸 어케 받아요")
    assert result.text == "마캐로 결재했는데 환뷸 어케 받아요"
    assert result.normalized == "마이캐쉬로 결제했는데 환뷸 어떻게 받아요"


PIECES = list("환불취소알림톡목록충전마이캐쉬계좌 2주ㅎㅂ?!sms")


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(PIECES), max_size=30))
def test_every_result_is_consistent(text: str) -> None:
    result = matcher().match(text)
    assert 0.0 <= result.score <= 100.0
    if result.decision == "answer":
        assert result.candidates == (result.intent,)
    elif result.decision == "clarify":
        assert result.intent is None and 2 <= len(result.candidates) <= 3
        assert len(set(result.candidates)) == len(result.candidates)
    else:
        assert result.intent is None and result.candidates == ()
