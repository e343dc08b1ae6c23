"""Every sentence a customer reads, in one place (Korean, polite, short).

Facts follow the help-centre page: 7 days counting the issue date, 0 SMS sent, full refund of the
service fee and the SMS charge, MyCash about 3-7 business days after an agent's review, refunds
to an account in the subscriber's own name only.
"""

from __future__ import annotations

from datetime import date, datetime

from core.calendar import format_date_ko, mycash_credit_window, to_kst
from core.models import PaymentMethod, RefundRequest, RequestStatus
from core.money import format_won

# Buttons --------------------------------------------------------------------------------------

BTN_START_REFUND = "취소/환불 신청하기"
BTN_MY_SERVICES = "내 서비스 취소 가능 여부"
BTN_CONTACT = "고객센터 문의 안내"
BTN_NEXT = "다음 진행"
BTN_CONFIRM = "취소/환불 신청"
BTN_BACK = "이전 단계"
BTN_STOP = "그만하기"
BTN_CONTINUE = "계속 진행하기"
BTN_NOT_LISTED = "목록에 없는 서비스가 있어요"
BTN_RETRY_HOLDER = "예금주 다시 입력"
BTN_RETRY_ACCOUNT = "계좌 다시 입력"
BTN_OTHER_QUESTION = "다른 질문이에요"
BTN_HANDOFF = "고객센터에 문의 남기기"
BTN_HANDOFF_OTHER_NAME = "확인증 첨부해 문의 남기기"
BTN_NO_ATTACHMENT = "확인증 없이 접수하기"
BTN_STATUS = "신청 현황 보기"
BTN_WITHDRAW = "신청 철회하기"
BTN_KEEP = "철회하지 않기"
BTN_RESUME = "이어서 작성하기"
BTN_DISCARD = "새로 시작하기"
BTN_HOME = "처음으로"
BTN_KEEP_WRITING = "계속 작성하기"
BTN_HELPFUL = "👍 도움이 됐어요"
BTN_NOT_HELPFUL = "👎 아쉬워요"

BANKS: tuple[str, ...] = (
    "KB국민은행",
    "신한은행",
    "우리은행",
    "하나은행",
    "NH농협은행",
    "IBK기업은행",
    "카카오뱅크",
    "토스뱅크",
    "케이뱅크",
    "SC제일은행",
    "우체국",
    "새마을금고",
)
"""The banks offered as buttons at the bank step."""

BANK_NAMES: dict[str, tuple[str, ...]] = {
    "KB국민은행": ("국민", "국민은행", "KB", "KB국민", "케이비", "국민銀"),
    "신한은행": ("신한",),
    "우리은행": ("우리",),
    "하나은행": ("하나", "KEB하나", "KEB하나은행", "외환", "외환은행"),
    "NH농협은행": ("농협", "농협은행", "NH", "NH농협", "단위농협", "지역농협", "농협중앙회"),
    "IBK기업은행": ("기업", "기업은행", "IBK", "IBK기업"),
    "카카오뱅크": ("카뱅", "카카오", "카카오은행"),
    "토스뱅크": ("토스", "토뱅", "토스은행"),
    "케이뱅크": ("케뱅", "K뱅크", "케이은행"),
    "SC제일은행": ("SC", "SC제일", "SC은행", "제일", "제일은행", "스탠다드차타드"),
    "우체국": ("우체국은행", "우체국예금", "우정사업본부"),
    "새마을금고": ("새마을", "MG", "MG새마을금고"),
    "수협은행": ("수협", "Sh수협은행"),
    "신협": ("신용협동조합", "신협은행"),
    "산림조합": ("산림조합중앙회",),
    "부산은행": ("부산", "BNK부산은행"),
    "경남은행": ("경남", "BNK경남은행"),
    "iM뱅크": ("대구은행", "대구", "DGB대구은행", "아이엠뱅크"),
    "광주은행": ("광주",),
    "전북은행": ("전북",),
    "제주은행": ("제주",),
    "KDB산업은행": ("산업은행", "산은", "KDB"),
    "한국씨티은행": ("씨티", "씨티은행", "시티은행", "citi"),
}
"""Every bank a refund can be paid to, with what customers type for it (checked at the bank
step: the refund goes to the bank's full name)."""

# General --------------------------------------------------------------------------------------

WELCOME = (
    "안녕하세요! 카카오알림톡/SMS 호스팅 취소·환불 도우미예요.\n"
    "궁금한 점을 편하게 물어보시거나, 아래에서 골라 주세요."
)
HELP = (
    "이렇게 도와드려요.\n"
    "• 취소/환불 관련 질문에 답변\n"
    "• 내 서비스가 지금 취소 가능한지 확인\n"
    "• 채팅에서 바로 취소/환불 신청 (/refund)\n"
    "• 신청 현황 확인 (/status)\n"
    "진행 중에는 언제든 /cancel 로 그만둘 수 있어요."
)
YOU_ARE_WELCOME = "천만에요! 더 궁금한 점이 있으면 언제든 물어봐 주세요."
ANYTHING_ELSE = "네, 알겠어요. 더 궁금한 점이 있으면 편하게 물어봐 주세요."
TOPICS_INTRO = "자주 묻는 질문이에요. 궁금한 주제를 골라 주세요."
FALLBACK = (
    "죄송해요, 그 질문에는 정확히 답변드리기 어려워요.\n"
    "저는 카카오알림톡/SMS 호스팅의 취소·환불을 도와드려요. 아래 주제에서 골라 주시거나, "
    "다른 문의는 고객센터로 남겨 주세요."
)
CLARIFY = "혹시 이 중 어떤 질문이신가요?"
CONTACT = (
    "이런 경우는 고객센터로 문의해 주세요. 담당자가 확인 후 답변드려요.\n"
    "• 7일이 지난 서비스의 취소\n"
    "• SMS를 사용한 서비스의 부분 환불 심사\n"
    "• 다른 분 명의 계좌로의 환불: 1:1문의게시판에 확인증을 첨부해 주세요"
)
NOT_UNDERSTOOD = "죄송해요, 이해하지 못했어요."
STALE_BUTTON = "지금 단계의 버튼이 아니에요. 아래에서 다시 골라 주세요."
STALE_BUTTON_IDLE = "지금은 사용할 수 없는 버튼이에요. 필요한 내용을 다시 말씀해 주세요."
NOTHING_TO_CANCEL = "진행 중인 신청 절차가 없어요."
STOPPED = (
    "신청을 그만두었어요. 접수된 내용은 없어요. 필요하시면 언제든 /refund 로 다시 시작해 주세요."
)
EXPIRED = "{minutes}분 동안 입력이 없어 진행 중이던 신청을 종료했어요. 접수된 내용은 없어요."
EXPIRED_INQUIRY = (
    "{minutes}분 동안 입력이 없어 작성 중이던 고객센터 문의를 종료했어요. 접수된 내용은 없어요."
)
EXPIRED_WITHDRAW = (
    "{minutes}분 동안 입력이 없어 신청 철회를 멈췄어요. 신청은 철회되지 않았고 그대로 검토가 "
    "진행돼요."
)
INQUIRY_STOPPED = "문의 작성을 그만두었어요. 접수된 내용은 없어요."
CONTINUE_PROMPT = "신청을 계속하시려면 아래에서 선택해 주세요."
LADDER = (
    "입력이 잘 전달되지 않는 것 같아요. 신청을 그만두시거나 고객센터로 문의해 주세요.\n"
    "계속하시려면 [계속 진행하기]를 눌러 주세요."
)
LADDER_BY_FLOW = {
    "refund": LADDER,
    "inquiry": (
        "입력이 잘 전달되지 않는 것 같아요. 문의 작성을 그만두시거나 고객센터로 직접 연락해 "
        "주세요.\n계속하시려면 [계속 진행하기]를 눌러 주세요."
    ),
    "withdraw": (
        "입력이 잘 전달되지 않는 것 같아요. 신청 철회를 그만두시거나 고객센터로 문의해 주세요.\n"
        "계속하시려면 [계속 진행하기]를 눌러 주세요."
    ),
}
"""The way out after several unusable inputs, named after the flow the customer is in."""
ERROR = "죄송해요, 처리 중 문제가 생겼어요. 잠시 후 다시 시도해 주세요. {filed}"
ERROR_NOTHING_FILED = "이번 요청으로 접수된 신청은 없어요."

# Linking --------------------------------------------------------------------------------------

NOT_LINKED = (
    "취소/환불 신청과 내 서비스 확인은 계정 연결 후 이용할 수 있어요.\n"
    "나의서비스관리에서 받은 연결 코드를 이 채팅에 그대로 보내 주세요(/link 코드 형식도 돼요). "
    "텔레그램에서는 받은 연결 링크를 열어도 돼요."
)
LINKED = "{name} 고객님 계정이 연결되었어요. 무엇을 도와드릴까요?"
LINK_FAILED = (
    "연결 코드가 올바르지 않거나 이미 사용·만료되었어요. 나의서비스관리에서 새 코드를 받아 주세요."
)
LINK_USAGE = "연결 코드를 함께 보내 주세요. 예: /link 코드"
LINK_THROTTLED = "연결 시도가 너무 많아요. {minutes}분 후에 다시 시도해 주세요."
UNLINKED = "계정 연결을 해제했어요. 다시 연결하려면 새 연결 코드를 받아 주세요."
NOT_LINKED_UNLINK = "연결된 계정이 없어요."

# Services and eligibility ----------------------------------------------------------------------


def past_deadline_line(service_id: str, day: int, last_day: date) -> str:
    """`SMS-1002: 발급 후 9일째예요(11월 26일까지 신청할 수 있었어요)`."""
    return (
        f"{service_id}: 발급 후 {day}일째예요"
        f"({last_day.month}월 {last_day.day}일까지 신청할 수 있었어요)"
    )


def sms_used_line(service_id: str, sent: int) -> str:
    """`SMS-1003: SMS를 3건 보내셨어요`."""
    return f"{service_id}: SMS를 {sent:,}건 보내셨어요"


def open_request_line(service_id: str, number: str) -> str:
    """A service that already has an open request."""
    return f"{service_id}: 이미 취소/환불 신청이 접수되어 있어요({number})"


def not_active_line(service_id: str) -> str:
    """A service that is already cancelled."""
    return f"{service_id}: 이미 해지된 서비스예요"


def until(last_day: date, today: date) -> str:
    """`12월 3일(목)까지`, or `오늘(12월 1일(화))까지` on the last day."""
    if last_day == today:
        return f"오늘({format_date_ko(last_day)})까지"
    return f"{format_date_ko(last_day)}까지"


def eligible_line(service_id: str, total: int, last_day: date, today: date) -> str:
    """An eligible service with its refund and last day."""
    return (
        f"{service_id}: 지금 취소 가능 — 환불 예상 {format_won(total)}, "
        f"{until(last_day, today)} 신청 가능"
    )


NEXT_STEP_PAST_DEADLINE = "• 7일이 지난 서비스는 직접 취소가 어려워요. 고객센터로 문의해 주세요."
NEXT_STEP_SMS_USED = "• SMS를 사용한 서비스는 고객센터에서 부분 환불 심사를 받으실 수 있어요."
NEXT_STEP_OPEN = "• 접수된 신청은 /status 로 진행 상황을 확인하실 수 있어요."
MY_SERVICES_HEADER = "고객님 서비스의 취소 가능 여부예요."
MY_AMOUNTS_HEADER = "고객님 서비스라면 이렇게 환불돼요."


def amount_line(service_id: str, fee: int, charge: int, last_day: date, today: date) -> str:
    """An eligible service's refund: fee plus SMS charge, and until when it can be filed."""
    return (
        f"{service_id}: {format_won(fee + charge)} (이용료 {format_won(fee)} + SMS 충전 "
        f"{format_won(charge)}), {until(last_day, today)} 신청 가능"
    )
NOT_CANCELLABLE_HEADER = "취소/환불 목록에 표시되지 않는 서비스예요."
ALL_CANCELLABLE = "지금은 모든 서비스가 취소/환불 목록에 표시돼요."
STILL_CANCELLABLE_HEADER = "아래 서비스는 아직 직접 취소하고 전액 환불받으실 수 있어요."
NO_SERVICES = "연결된 계정에 카카오알림톡/SMS 서비스가 없어요."

# The refund flow ------------------------------------------------------------------------------

CHOOSE_SERVICE = "취소/환불할 서비스를 선택해 주세요."
NONE_ELIGIBLE = "지금 바로 취소/환불을 신청할 수 있는 서비스가 없어요."


def service_button(service_id: str, total: int) -> str:
    """The button label of an eligible service: its id and refund amount."""
    return f"{service_id} · {format_won(total)}"


def breakdown(
    service_id: str, fee: int, charge: int, destination: str, last_day: date, today: date
) -> str:
    """The refund breakdown shown before [다음 진행]."""
    return (
        f"{service_id} 환불 예상 금액이에요.\n"
        f"• 서비스 이용료: {format_won(fee)}\n"
        f"• SMS 충전 금액: {format_won(charge)}\n"
        f"• 합계: {format_won(fee + charge)}\n"
        f"• 환불 방법: {destination}\n"
        f"{until(last_day, today)} 신청할 수 있어요."
    )


DEST_MYCASH = "마이캐쉬 적립 (담당자 확인 후 영업일 기준 약 3-7일)"
DEST_BANK = "환불받으실 계좌로 입금 (가입자 명의 계좌만 가능)"
ASK_REASON = "취소/환불 사유를 선택해 주세요. (필수)"
REASON_CHOSEN = "선택하신 사유: {reason}"
ASK_MESSAGE = "남기실 말씀을 입력해 주세요. (필수, {limit:,}자 이내)"
MESSAGE_BLANK = "남기실 말씀은 꼭 입력해 주셔야 해요. 취소 사유를 짧게 적어 주세요."
MESSAGE_TOO_LONG = "남기실 말씀이 너무 길어요({length:,}자). {limit:,}자 이내로 줄여 주세요."
ASK_BANK = (
    "실시간계좌이체로 결제하셔서 환불받을 계좌가 필요해요.\n"
    "은행을 선택하시거나 은행 이름을 입력해 주세요."
)
BANK_INVALID = "은행 이름만 입력해 주세요. (예: 신한은행) 계좌번호는 다음 단계에서 따로 받을게요."
ASK_ACCOUNT = "계좌번호를 입력해 주세요. 숫자와 - 만 쓸 수 있어요. (예: 123-456-789012)"
ACCOUNT_RECHECK = (
    "가입자 정보가 바뀌어 입력하신 계좌로는 접수할 수 없어요. 환불받으실 계좌를 다시 입력해 주세요."
)
ACCOUNT_INVALID = "계좌번호 형식이 맞지 않아요. 숫자 10~16자리(- 포함 가능)로 입력해 주세요."
ASK_HOLDER = "예금주 이름을 입력해 주세요. 가입자 명의와 같은 계좌로만 환불할 수 있어요."
HOLDER_MISMATCH = (
    "입력하신 예금주가 가입자 명의와 달라요. 계좌 환불은 가입자 명의와 동일한 계좌로만 가능해요.\n"
    "다른 분 명의 계좌로 환불이 필요하시면 1:1문의게시판에 확인증을 첨부해 문의해 주세요.\n"
    "가입자 명의 계좌로 다시 입력하시거나 그만두실 수 있어요."
)


def summary(
    service_id: str,
    fee: int,
    charge: int,
    reason: str,
    message: str,
    account_line: str | None,
    destination: str,
) -> str:
    """The summary shown before [취소/환불 신청]."""
    lines = [
        "아래 내용으로 취소/환불을 신청할까요?",
        f"• 서비스: {service_id}",
        f"• 환불 금액: {format_won(fee + charge)} "
        f"(이용료 {format_won(fee)} + SMS 충전 {format_won(charge)})",
        f"• 환불 방법: {destination}",
    ]
    if account_line:
        lines.append(f"• 환불 계좌: {account_line}")
    lines.append(f"• 사유: {reason}")
    lines.append(f"• 남기실 말씀: {message}")
    return "\n".join(lines)


FILED_PROGRESS = "진행 상황은 /status 또는 [신청 현황 보기]로 확인하실 수 있어요."


def filed_mycash(number: str, total: int, first: date, last: date) -> str:
    """Completion message for a MyCash refund."""
    return (
        f"취소/환불 신청이 접수되었어요.\n"
        f"• 신청 번호: {number}\n"
        f"• 환불 금액: {format_won(total)} (마이캐쉬 적립)\n"
        f"담당자가 확인한 날부터 영업일 기준 약 3-7일 안에 적립돼요. 오늘 확인되면 "
        f"{format_date_ko(first)}~{format_date_ko(last)} 사이예요.\n"
        f"나의서비스관리 > 정산관리 > 마이캐쉬 입출금내역에서 확인하실 수 있어요.\n"
        f"{FILED_PROGRESS}"
    )


def filed_bank(number: str, total: int, bank: str, masked: str) -> str:
    """Completion message for a bank-transfer refund."""
    return (
        f"취소/환불 신청이 접수되었어요.\n"
        f"• 신청 번호: {number}\n"
        f"• 환불 금액: {format_won(total)}\n"
        f"• 환불 계좌: {bank} {masked}\n"
        f"담당자가 확인한 뒤 위 계좌로 환불해 드려요.\n"
        f"{FILED_PROGRESS}"
    )


ALREADY_FILED = "이미 접수된 신청이에요. 신청 번호: {number}"
ALREADY_OPEN = "이 서비스는 이미 취소/환불 신청이 접수되어 있어요. 신청 번호: {number}"
NO_LONGER_ELIGIBLE = "방금 확인해 보니 이 서비스는 지금 취소/환불을 신청할 수 없어요."

# Status ---------------------------------------------------------------------------------------

STATUS_LABELS: dict[RequestStatus, str] = {
    RequestStatus.SUBMITTED: "접수됨(검토 대기)",
    RequestStatus.APPROVED: "승인됨(환불 진행 중)",
    RequestStatus.REJECTED: "반려됨",
    RequestStatus.REFUNDED: "환불 완료",
    RequestStatus.WITHDRAWN: "철회됨",
}
NO_REQUESTS = "접수된 취소/환불 신청이 없어요."
STATUS_HEADER = "취소/환불 신청 현황이에요."


def status_line(request: RefundRequest) -> str:
    """One request in /status: number, service, amount, state and the dates that matter."""
    filed = to_kst(request.created_at).date()
    changed = to_kst(request.updated_at).date()
    line = (
        f"• {request.number} · {request.service_id} · {format_won(request.total)}\n"
        f"  {STATUS_LABELS[request.status]} · {format_date_ko(filed)} 신청"
    )
    if request.status is RequestStatus.SUBMITTED:
        if request.payment_method is PaymentMethod.MYCASH:
            line += "\n  담당자가 확인한 날부터 영업일 기준 약 3-7일 뒤 마이캐쉬로 적립돼요"
        else:
            line += "\n  담당자가 확인한 뒤 등록하신 계좌로 환불해 드려요"
    if request.status is RequestStatus.APPROVED:
        if request.payment_method is PaymentMethod.MYCASH:
            first, last = mycash_credit_window(changed)
            line += (
                f"\n  {format_date_ko(changed)} 승인 · 마이캐쉬 적립 예정 "
                f"{format_date_ko(first)}~{format_date_ko(last)}"
            )
        else:
            line += f"\n  {format_date_ko(changed)} 승인 · 계좌 환불 진행 중"
    elif request.status is RequestStatus.REJECTED:
        line += f"\n  {format_date_ko(changed)} 반려"
        if request.decision_note:
            line += f" · 사유: {request.decision_note}"
    elif request.status is RequestStatus.REFUNDED:
        line += f"\n  {format_date_ko(changed)} 환불 완료"
    elif request.status is RequestStatus.WITHDRAWN:
        line += f"\n  {format_date_ko(changed)} 철회"
    return line


# Telegram -------------------------------------------------------------------------------------

FLOOD = "메시지가 너무 빠르게 오고 있어요. 잠시 후 다시 보내 주세요."
TEXT_ONLY = "지금은 글자로 된 메시지만 받을 수 있어요. 궁금한 점을 글로 보내 주세요."
PRIVATE_ONLY = "이 봇은 1:1 채팅에서만 도와드려요. 봇과의 개인 채팅으로 와 주세요."
ERROR_CHECK_STATUS = "신청이 접수되었는지는 /status 로 확인하실 수 있어요."

# KakaoTalk ------------------------------------------------------------------------------------

KAKAO_HOLD_ON = (
    "잠시만요! 처리하는 데 시간이 조금 걸리고 있어요.\n"
    "잠시 후 [결과 확인]을 누르시거나 다음 메시지를 보내 주시면 이어서 알려 드릴게요."
)
KAKAO_BTN_RESULT = "결과 확인"
KAKAO_STILL_BUSY = (
    "아직 앞의 요청을 처리하고 있어요. 방금 보내신 메시지는 처리하지 못했으니 "
    "잠시 후 다시 보내 주세요."
)
KAKAO_EMPTY = "무엇을 도와드릴까요? 궁금한 점을 글로 보내 주세요."
KAKAO_NOTICE_MARK = "🔔"
KAKAO_SHORTENED = "…(길어서 줄였어요)"
KAKAO_MORE_CHOICES = "다른 선택지예요. 눌러서 고르실 수 있어요."
KAKAO_TYPE_CHOICE = "목록에 없는 항목은 그대로 입력해 주세요: {choices}"
KAKAO_LINK_INSTRUCTION = (
    "카카오톡 채널 채팅방에 연결 코드 {code} 를 그대로 붙여 넣어 보내 주세요. "
    "({minutes}분 안에 한 번만 쓸 수 있어요)"
)

# Feedback and hand-off ------------------------------------------------------------------------

THANKS_HELPFUL = "의견 감사해요! 더 궁금한 점이 있으면 편하게 물어봐 주세요."
THANKS_NOT_HELPFUL = (
    "알려 주셔서 감사해요. 더 나은 답변을 준비할게요.\n"
    "아래 주제에서 다시 골라 보시거나 고객센터로 문의해 주세요."
)
ASK_INQUIRY = (
    "고객센터에 남기실 내용을 적어 주세요. ({limit:,}자 이내)\n"
    "담당자가 확인 후 이 채팅으로 답변드려요."
)
ASK_ATTACHMENT = (
    "다른 분 명의 계좌로 환불받으시려면 확인증이 필요해요.\n"
    "확인증을 사진이나 파일로 이 채팅에 보내 주세요."
)
ATTACHMENT_EXPECTED = (
    "확인증을 사진이나 파일로 보내 주세요. 없으시면 [확인증 없이 접수하기]를 눌러 주세요."
)
BTN_FILE_INQUIRY = "문의 접수하기"
ASK_ATTACHMENT_ELSEWHERE = (
    "다른 분 명의 계좌로 환불받으시려면 확인증이 필요해요.\n"
    "이 채팅에서는 파일을 받을 수 없어요. [문의 접수하기]를 누르신 뒤 "
    "나의서비스관리의 1:1문의게시판에 확인증을 첨부해 주세요."
)
ATTACHMENT_ELSEWHERE_EXPECTED = (
    "이 채팅에서는 파일을 받을 수 없어요. [문의 접수하기]를 누르신 뒤 "
    "1:1문의게시판에 확인증을 첨부해 주세요."
)
INQUIRY_HOW_TO_WRITE = (
    "어떤 서비스(예: SMS-1001)에 대해 무엇을 원하시는지 한두 문장으로 적어 주세요. "
    "예: SMS-1003 취소하고 싶은데 7일이 지났어요."
)
INQUIRY_BLANK = "문의 내용이 비어 있어요. " + INQUIRY_HOW_TO_WRITE
INQUIRY_TOO_SHORT = "문의 내용이 너무 짧아 담당자가 알 수 없어요. " + INQUIRY_HOW_TO_WRITE
INQUIRY_CONTEXT_NONE = "취소 불가 서비스 없음"
INQUIRY_NOT_FILED = "문의를 접수하지 못했어요. 처음부터 다시 시도해 주세요. 접수된 내용은 없어요."


def inquiry_context_other_name(
    service_id: str, bank: str, masked: str, typed_holder: str, subscriber: str
) -> str:
    """What the agent needs for a refund to another person's account."""
    return (
        f"{service_id}: 타인 명의 계좌 환불 요청 — {bank} {masked}, "
        f"입력한 예금주 {typed_holder}, 가입자 {subscriber}"
    )


def inquiry_filed(number: str, attachments: int) -> str:
    """Confirmation of a filed inquiry."""
    attached = f"\n• 첨부: {attachments}개" if attachments else ""
    return (
        f"고객센터 문의가 접수되었어요.\n• 문의 번호: {number}{attached}\n"
        "담당자가 확인 후 이 채팅으로 답변드려요."
    )


# Notifications (delivered through the outbox) -------------------------------------------------


def notify_approved_mycash(number: str, total: int, first: date, last: date) -> str:
    """An agent approved a MyCash refund."""
    return (
        f"취소/환불 신청({number})이 승인되었어요.\n"
        f"마이캐쉬 {format_won(total)}이 영업일 기준 약 3-7일 뒤인 "
        f"{format_date_ko(first)}~{format_date_ko(last)} 사이에 적립될 예정이에요.\n"
        "나의서비스관리 > 정산관리 > 마이캐쉬 입출금내역에서 확인하실 수 있어요."
    )


def notify_approved_bank(number: str, total: int, bank: str, last4: str) -> str:
    """An agent approved a bank-transfer refund."""
    return (
        f"취소/환불 신청({number})이 승인되었어요.\n"
        f"{format_won(total)}을 {bank} 끝자리 {last4} 계좌로 환불해 드릴 예정이에요."
    )


def notify_rejected(number: str, reason: str) -> str:
    """An agent rejected a request."""
    return (
        f"취소/환불 신청({number})이 반려되었어요.\n"
        f"사유: {reason}\n"
        "궁금하신 점은 고객센터로 문의해 주세요."
    )


def notify_refunded(
    number: str, total: int, method: str, bank: str | None, last4: str | None
) -> str:
    """The refund was paid."""
    if method == "mycash":
        where = "마이캐쉬로 적립되었어요. 마이캐쉬 입출금내역에서 확인하실 수 있어요."
    else:
        where = f"{bank} 끝자리 {last4} 계좌로 입금되었어요."
    return f"취소/환불 신청({number})의 환불이 완료되었어요.\n{format_won(total)}이 {where}"


def notify_inquiry_answer(number: str, answer: str) -> str:
    """An agent's answer to an inquiry."""
    return f"고객센터 문의({number})에 답변이 도착했어요.\n\n{answer}"


# Conversation: coming back, navigation, one live menu ---------------------------------------

WHAT_CAN_I_DO = "무엇을 도와드릴까요? 궁금한 점을 입력하시거나 아래에서 골라 주세요."


def resume_notice(service_id: str | None) -> str:
    """Said to a customer who comes back to an unfinished request."""
    what = f"{service_id} 취소/환불 신청" if service_id else "취소/환불 신청"
    return (
        f"작성 중이던 {what}이 있어요. 이어서 작성하시거나 [그만하기]로 멈추실 수 있어요. "
        "아직 접수된 것은 아니에요."
    )


RESUME_INQUIRY = (
    "작성 중이던 고객센터 문의가 있어요. 이어서 작성하시거나 [그만하기]로 멈추실 수 있어요. "
    "아직 접수된 것은 아니에요."
)


def resume_withdraw(numbers: list[str]) -> str:
    """Said to a customer who comes back to a withdrawal they had not confirmed."""
    what = f"{numbers[0]} 신청 철회" if len(numbers) == 1 else "신청 철회"
    return (
        f"진행 중이던 {what}가 있어요. 아래에서 철회하시거나 [철회하지 않기]로 멈추실 수 있어요. "
        "아직 철회된 것은 아니에요."
    )


CONTINUE_INQUIRY = "문의를 계속 작성하시려면 내용을 입력해 주세요."
CONTINUE_WITHDRAW = "철회하실지 아래에서 선택해 주세요."
HOME_QUESTION = (
    "작성 중인 내용이 있어요. 처음으로 돌아가면 지금까지 입력하신 내용은 접수되지 않고 사라져요.\n"
    "처음으로 돌아갈까요?"
)
DISCARD_QUESTION = (
    "작성 중인 신청이 있어요. 새로 시작하면 지금까지 입력하신 내용은 접수되지 않고 사라져요.\n"
    "새로 시작할까요?"
)
DISCARD_QUESTION_BY_FLOW = {
    "refund": DISCARD_QUESTION,
    "inquiry": (
        "작성 중인 고객센터 문의가 있어요. 새로 시작하면 지금까지 입력하신 내용은 접수되지 않고 "
        "사라져요.\n새로 시작할까요?"
    ),
    "withdraw": (
        "진행 중인 신청 철회가 있어요. 새로 시작하면 철회는 멈추고 신청은 그대로 검토가 "
        "진행돼요.\n새로 시작할까요?"
    ),
}
STOP_QUESTION = (
    "신청을 그만하시겠어요? 그만두시면 지금까지 입력하신 내용은 접수되지 않아요.\n"
    "계속 작성하시려면 [이어서 작성하기]를 눌러 주세요."
)
STOP_QUESTION_BY_FLOW = {
    "refund": STOP_QUESTION,
    "inquiry": (
        "문의 작성을 그만하시겠어요? 그만두시면 지금까지 입력하신 내용은 접수되지 않아요.\n"
        "계속 작성하시려면 [이어서 작성하기]를 눌러 주세요."
    ),
    "withdraw": (
        "신청 철회를 그만하시겠어요? 그만두시면 신청은 철회되지 않고 그대로 검토가 진행돼요.\n"
        "계속하시려면 [이어서 작성하기]를 눌러 주세요."
    ),
}
MESSAGE_NEEDS_REASON = "남기실 말씀에는 취소하시려는 이유를 한두 문장으로 적어 주세요."
CLARIFY_IN_FLOW = (
    "혹시 이 중 어떤 질문이신가요? 신청을 이어서 하시려면 [이어서 작성하기]를 눌러 주세요."
)
QUESTION_ANSWERED_IN_FLOW = "질문에 먼저 답해 드렸어요. 입력하신 내용은 저장하지 않았어요."
HELD_QUESTION = (
    "질문처럼 보여서 아직 저장하지 않았어요. 이 내용을 그대로 남기실 말씀으로 저장할까요?\n"
    "궁금한 점이라면 질문을 다시 보내 주시거나 고객센터에 문의를 남겨 주세요."
)
BTN_KEEP_TEXT = "이대로 저장하기"
BTN_RETYPE = "다시 입력하기"


def service_not_offered(reason_line: str, next_steps: list[str] | None = None) -> str:
    """A service the customer named that cannot be cancelled in self-service, and why."""
    lines = [f"그 서비스는 지금 직접 취소할 수 없어요.\n• {reason_line}", *(next_steps or [])]
    return "\n".join(lines)


SERVICE_CANCELLABLE = "그 서비스는 지금 직접 취소하고 전액 환불받으실 수 있어요."


def service_start_button(service_id: str) -> str:
    """The button that starts a request for one named service."""
    return f"{service_id} 취소/환불 신청"


UNKNOWN_SERVICE = "고객님 계정에 그런 서비스가 없어요. 목록에서 골라 주세요."

# Status, withdrawal, people, anger -----------------------------------------------------------

STATUS_INQUIRIES_HEADER = "고객센터 문의 현황이에요."
NO_REQUESTS_OR_INQUIRIES = "접수된 취소/환불 신청이나 고객센터 문의가 없어요."
INQUIRY_STATUS_LABELS: dict[str, str] = {
    "open": "접수됨(답변 대기)",
    "answered": "답변 완료",
    "closed": "종료",
}


def inquiry_status_line(number: str, status: str, created: date) -> str:
    """One inquiry in /status."""
    label = INQUIRY_STATUS_LABELS.get(status, status)
    return f"• {number} · {label} · {format_date_ko(created)} 문의"


def withdraw_question(number: str, service_id: str, total: int) -> str:
    """Asked before a submitted request is withdrawn."""
    return (
        f"{number}({service_id} · {format_won(total)}) 신청을 철회할까요?\n"
        "철회하면 담당자 검토가 취소돼요. 취소 가능 기간 안이라면 다시 신청하실 수 있어요."
    )


def which_cancel(numbers: list[str]) -> str:
    """ "신청 취소할게요" from a customer with a request waiting for review: which is meant?"""
    filed = (
        f"접수하신 취소/환불 신청({numbers[0]})이 있어요."
        if len(numbers) == 1
        else f"접수하신 취소/환불 신청이 {len(numbers)}건 있어요({', '.join(numbers)})."
    )
    return (
        f"{filed} 어떤 걸 원하세요?\n"
        "• 접수한 신청을 없던 걸로 하시려면 [신청 철회하기]\n"
        "• 서비스를 취소하고 환불을 신청하시려면 [취소/환불 신청하기]"
    )


WITHDRAW_CHOOSE = "철회할 신청을 골라 주세요. 담당자 검토 전인 신청만 철회할 수 있어요."
WITHDRAW_TYPE_HINT = "서비스 번호(예: SMS-1001)나 신청 번호를 입력하셔도 돼요."


def withdraw_line(number: str, service_id: str, total: int, filed: date) -> str:
    """One request offered for withdrawal: what it is for, so the customer knows which."""
    return f"• {number} · {service_id} · {format_won(total)} · {format_date_ko(filed)} 신청"


def withdraw_button(service_id: str, total: int) -> str:
    """The button that withdraws one request, named as the customer knows it (its service)."""
    return f"{service_id} · {format_won(total)} 철회"


def withdrawn(number: str, refile_until: str | None) -> str:
    """After a withdrawal."""
    again = (
        f"\n이 서비스는 {refile_until} 다시 신청하실 수 있어요."
        if refile_until
        else ""
    )
    return f"{number} 신청을 철회했어요. 환불 검토는 진행되지 않아요.{again}"


WITHDRAW_KEPT = "철회하지 않았어요. 신청은 그대로 검토가 진행돼요."
NOTHING_TO_WITHDRAW = "철회할 수 있는 신청이 없어요. 담당자 검토 전인 신청만 철회할 수 있어요."


def cannot_withdraw_approved(number: str) -> str:
    """An approved request is already being refunded: the customer centre handles it."""
    return (
        f"{number} 신청은 이미 승인되어 환불이 진행 중이라 채팅에서 철회할 수 없어요.\n"
        "철회가 필요하시면 고객센터에 문의를 남겨 주세요."
    )


SMS_ALREADY_SENT = (
    "말씀하신 것처럼 SMS를 이미 보내셨다면 나의서비스관리에서 직접 취소할 수 없어요. "
    "고객센터에서 부분 환불 심사를 받으실 수 있어요."
)
"""Added to the SMS-charge answer when the customer says SMS were sent ("테스트로 한 통
보냈어요"): the seed's answer starts with the unused case, which is not theirs."""

HUMAN_AGENT = (
    "상담원과 이야기하시려면 고객센터로 문의를 남겨 주세요. 담당자가 확인 후 이 채팅으로 "
    "답변드려요.\n"
    "• 여기서 [고객센터에 문의 남기기]를 누르시면 상황을 담당자에게 바로 전달해요.\n"
    "• 다른 분 명의 계좌로 환불이 필요하시면 나의서비스관리의 1:1문의게시판에 확인증을 첨부해 "
    "주세요."
)
HUMAN_AGENT_NOT_LINKED = (
    "상담원과 이야기하시려면 나의서비스관리에서 고객센터로 문의해 주세요. 계정을 연결하시면 이 "
    "채팅에서 바로 문의를 남기실 수 있어요."
)
COMPLAINT = (
    "불편을 드려 정말 죄송해요. 담당자가 직접 확인하도록 고객센터로 바로 전달해 드릴게요."
)
COMPLAINT_NOT_LINKED = (
    "불편을 드려 정말 죄송해요. 나의서비스관리에서 고객센터로 문의해 주시면 담당자가 직접 "
    "확인해 드려요."
)

# Typed inputs --------------------------------------------------------------------------------

def bank_which(candidates: tuple[str, ...]) -> str:
    """Asked when a typed bank name is only close to one or a few banks."""
    if len(candidates) == 1:
        return (
            f"혹시 {candidates[0]}인가요? 맞으면 눌러 주시고, 아니면 은행 이름을 다시 입력해 "
            "주세요."
        )
    return "혹시 이 중 어느 은행인가요? 없으면 은행 이름을 다시 입력해 주세요."


BANK_UNKNOWN = (
    "은행 이름을 알아보지 못했어요. 아래에서 은행을 고르시거나 정확한 이름을 입력해 주세요."
)
HOLDER_BLANK = "예금주 이름을 입력해 주세요."
HOLDER_LOOKS_LIKE_NUMBER = "계좌번호는 앞 단계에서 받았어요. 이번에는 예금주 이름만 입력해 주세요."
OTHER_NAME_NOT_FILED = (
    "취소/환불 신청은 아직 접수되지 않았어요. 다른 분 명의 계좌로 환불받으시려면 고객센터 "
    "문의로 넘겨 드릴게요. 입력하신 사유, 남기실 말씀과 계좌 정보는 문의에 함께 전달돼요."
)


def until_date(last_day: date) -> str:
    """`12월 3일(목)까지`, for a notice read on a day nobody knows in advance."""
    return f"{format_date_ko(last_day)}까지"


def rejected_refile(until_text: str) -> str:
    """Added to a rejection notice while the service can still be filed again."""
    return f"이 서비스는 {until_text} 다시 신청하실 수 있어요."


# Staff chat (agents, in the Telegram forum) ---------------------------------------------------
# What agents read in the staff chat: the case cards, lines posted in a case's topic, the queue
# and /stats. Agents are Korean-speaking staff; ids and amounts stay as the CLI shows them.

STAFF_BTN_APPROVE = "승인"
STAFF_BTN_REJECT = "반려"
STAFF_BTN_REFUNDED = "환불 완료"
STAFF_BTN_CLOSE = "문의 종료"
STAFF_BTN_CANCEL = "반려 취소"

STAFF_CANNED_REASONS: tuple[tuple[str, str], ...] = (
    (
        "SMS 발송 이력",
        "SMS 발송 이력이 확인되어 전액 환불 대상이 아니에요. 고객센터에서 부분 환불 심사를 "
        "도와드릴게요.",
    ),
    (
        "신청 기간 경과",
        "서비스 발급일을 포함해 7일이 지나 채팅으로 취소할 수 없어요. 고객센터로 문의해 주세요.",
    ),
    (
        "결제 확인 불가",
        "결제 내역을 확인할 수 없어요. 결제 정보를 확인해 고객센터로 문의해 주세요.",
    ),
    ("중복 신청", "같은 서비스로 접수된 신청이 이미 있어 이 신청은 반려했어요."),
)
"""(button label, the reason the customer reads) offered when an agent presses 반려."""

STAFF_CHANNEL_LABELS: dict[str, str] = {
    "telegram": "텔레그램",
    "kakao": "카카오톡",
    "console": "터미널",
    "web": "웹",
}
STAFF_ACTION_LABELS: dict[str, str] = {
    "approved": "✅ 승인",
    "rejected": "⛔ 반려",
    "refunded": "💸 환불 완료",
    "withdrawn": "↩️ 고객 철회",
    "answered": "📨 답변",
    "closed": "🔒 문의 종료",
}
STAFF_BY_CUSTOMER = "고객"
STAFF_RELAY_NOTE = (
    "이 주제에 쓰신 메시지는 고객에게 그대로 전달돼요(//로 시작하면 전달하지 않아요). "
    "마치려면 /close 또는 [문의 종료]를 눌러 주세요."
)
STAFF_ASK_REASON = "반려 사유를 이 주제에 메시지로 보내 주세요."
STAFF_NO_OPEN_INQUIRY = "이 주제에는 진행 중인 문의가 없어요."
STAFF_DONE = "처리했어요: {what}"
STAFF_REJECT_CANCELLED = "반려를 취소했어요."
STAFF_QUEUE_EMPTY = "📋 처리 대기 중인 건이 없어요."
STAFF_QUEUE_MORE = "…외 {count}건"
STAFF_CUSTOMER_FILE = "👤 고객이 보낸 {kind}"
STAFF_FILE_KINDS = {"photo": "사진", "document": "파일"}

# Said to the customer when their message is passed on to the agent handling their hand-off.
RELAYED_TO_AGENT = (
    "담당자에게 전달했어요. 답변은 이 채팅으로 보내 드릴게요. (문의 번호: {number})"
)


def staff_refused_state(number: str, state: str) -> str:
    """An agent's action that the case's state no longer allows."""
    return f"⚠️ {number}은(는) 지금 '{state}' 상태라 할 수 없어요."


def staff_refused(why: str) -> str:
    """An agent's action refused for another reason (an empty reason, say)."""
    return f"⚠️ 처리하지 못했어요: {why}"


def staff_when(instant: datetime) -> str:
    """`12월 1일(화) 14:03` in Seoul time."""
    local = to_kst(instant)
    return f"{format_date_ko(local.date())} {local:%H:%M}"


def staff_actor(actor: str) -> str:
    """How the audit trail's actor reads on a card: the agent as recorded, or 고객."""
    if actor.startswith("customer:"):
        return STAFF_BY_CUSTOMER
    return actor.removeprefix("agent:")


def staff_topic_name(number: str, customer: str, subject: str) -> str:
    """A case topic's name: `R-20261201-0003 · 정다은 · SMS-1002` (Telegram allows 128)."""
    return f"{number} · {customer} · {subject}"[:128]


STAFF_TOPIC_INQUIRY = "문의"


def staff_request_card(
    *,
    number: str,
    status: RequestStatus,
    customer: str,
    customer_id: str,
    service_id: str,
    day: int | None,
    sms_sent: int | None,
    fee: int,
    charge: int,
    route: str,
    reason: str,
    message: str,
    filed: datetime,
    channel: str,
    decision: str | None,
    note: str | None,
) -> str:
    """A refund request's card in its topic."""
    lines = [
        f"🧾 취소/환불 신청 {number}",
        f"상태: {STATUS_LABELS[status]}",
        f"• 고객: {customer} ({customer_id})",
        f"• 서비스: {service_id}"
        + (f" · 발급 {day}일째 신청(7일 중)" if day is not None else "")
        + (f" · SMS 발송 {sms_sent:,}건" if sms_sent is not None else ""),
        f"• 환불 금액: {format_won(fee + charge)} "
        f"(이용료 {format_won(fee)} + SMS 충전 {format_won(charge)})",
        f"• 환불 방법: {route}",
        f"• 사유: {reason}",
        f"• 남기실 말씀: {message}",
        f"• 신청: {staff_when(filed)} · {STAFF_CHANNEL_LABELS.get(channel, channel)}",
    ]
    if decision:
        lines.append(f"처리: {decision}")
    if note and status is RequestStatus.REJECTED:
        lines.append(f"반려 사유: {note}")
    return "\n".join(lines)


STAFF_ROUTE_MYCASH = "마이캐쉬 적립"


def staff_route_bank(bank: str, masked: str, holder: str) -> str:
    """A bank-transfer refund route with the account masked."""
    return f"계좌 입금 — {bank} {masked} (예금주 {holder})"


def staff_inquiry_card(
    *,
    number: str,
    status: str,
    customer: str,
    customer_id: str,
    service_id: str | None,
    context: str,
    message: str,
    refund: str | None,
    transcript: tuple[str, ...],
    files: int,
    filed: datetime,
    channel: str,
    decision: str | None,
) -> str:
    """A hand-off's card: why self-service stopped, the message, the last turns, the files."""
    lines = [
        f"💬 고객센터 문의 {number}",
        f"상태: {INQUIRY_STATUS_LABELS.get(status, status)}",
        f"• 고객: {customer} ({customer_id})",
        f"• 서비스: {service_id or '-'}",
        f"• 셀프 서비스가 멈춘 이유: {context}",
        f"• 남기신 말씀: {message}",
    ]
    if refund:
        lines.append(f"• 신청하려던 환불: {refund}")
    lines.append(f"• 확인증: {files}개" + (" (아래 첨부)" if files else ""))
    lines.append(f"• 접수: {staff_when(filed)} · {STAFF_CHANNEL_LABELS.get(channel, channel)}")
    if transcript:
        lines.append("최근 대화:")
        lines.extend(f"  {line}" for line in transcript)
    if decision:
        lines.append(f"처리: {decision}")
    lines.append(STAFF_RELAY_NOTE)
    return "\n".join(lines)


def staff_decision(action: str, actor: str, at: datetime) -> str:
    """`✅ 승인 · tg:7001 (김상담) · 12월 1일(화) 14:03`."""
    label = STAFF_ACTION_LABELS.get(action, action)
    return f"{label} · {staff_actor(actor)} · {staff_when(at)}"


def staff_change_line(action: str, actor: str, at: datetime, detail: str, number: str) -> str:
    """What is posted in the topic when a case changes (from the CLI or the staff chat)."""
    line = f"{staff_decision(action, actor, at)} — {number}"
    if action == "rejected" and detail:
        line += f"\n고객에게 보낸 사유: {detail}"
    elif action == "answered" and detail:
        line += f"\n고객에게 보낸 답변:\n{detail}"
    return line


def staff_reminder(number: str, hours: float) -> str:
    """The one reminder of a case still undecided."""
    shown = f"{hours:g}"
    return f"⏰ {number} 접수 후 {shown}시간이 지났어요. 아직 처리되지 않았어요."


def staff_reject_prompt(number: str, agent: str) -> str:
    """Asked after an agent pressed 반려."""
    return (
        f"{agent}님, {number} 반려 사유를 이 주제에 메시지로 보내 주세요. 고객이 그대로 읽어요. "
        "(30분 안에)\n자주 쓰는 사유는 아래에서 고를 수 있어요."
    )


def staff_relay(customer: str, text: str) -> str:
    """A customer's message relayed into their hand-off's topic."""
    return f"👤 {customer}: {text}"


def staff_queue_line(number: str, customer: str, subject: str, state: str, filed: datetime) -> str:
    """One open case in the pinned queue message."""
    return f"• {number} · {customer} · {subject} · {state} · {staff_when(filed)}"


def staff_queue_header(count: int) -> str:
    """The head of the pinned queue message."""
    return f"📋 처리 대기 {count}건 (오래된 순)"


def staff_stats_caption(
    *,
    first: date,
    last: date,
    questions: int,
    fallback_rate: float,
    per_intent: dict[str, int],
    by_state: dict[str, int],
    median_hours: float | None,
    decisions: int,
) -> str:
    """The figures under the /stats chart."""
    intents = ", ".join(f"{k} {v}" for k, v in sorted(per_intent.items(), key=lambda kv: -kv[1]))
    states = " · ".join(
        f"{STATUS_LABELS[RequestStatus(k)]} {v}" for k, v in by_state.items() if v
    )
    median = f"{median_hours:g}시간 ({decisions}건)" if median_hours is not None else "-"
    return (
        f"📊 지난 7일 ({format_date_ko(first)}~{format_date_ko(last)})\n"
        f"• 질문 {questions:,}건 · 답을 못 찾은 비율 {fallback_rate:.1%}\n"
        f"• 의도별 답변: {intents or '-'}\n"
        f"• 신청(상태별): {states or '-'}\n"
        f"• 접수부터 결정(승인/반려)까지 중앙값: {median}"
    )
