"""The hand-off to the customer centre: a short message (and, for another person's account,
the 확인증 as a photo or file), filed as an inquiry with what the agent needs to know."""

from __future__ import annotations

import secrets

from bot import texts
from bot.dialogue.data import InquiryDraft
from bot.dialogue.events import Reply, Upload
from bot.dialogue.flow import Form, GoTo, Next, Outcome, Reprompt, State, Stay, Step
from bot.dialogue.inputs import clean_message, required_text, too_short
from bot.dialogue.services import blocked_context
from bot.dialogue.turn import Turn
from core.errors import NotFound
from core.models import Attachment, InquiryRefund, RefundAccount
from core.usecases import InquiryFiling

INQUIRY_FORMS: dict[str, Form] = {
    "not_eligible": (State.INQUIRY_MESSAGE,),
    "other_name_account": (State.INQUIRY_MESSAGE, State.INQUIRY_ATTACH),
}
"""The inquiry's steps, by topic (a refund to another person's account needs a 확인증)."""


async def start_inquiry(turn: Turn, topic: str) -> Outcome:
    """Start writing an inquiry about `topic` ('not_eligible' or 'other_name_account')."""
    if turn.customer is None:
        turn.reset()
        turn.say(texts.NOT_LINKED)
        return Stay()
    data = turn.data
    refund = None
    if topic == "other_name_account" and turn.state is State.HOLDER:
        service_id = data.service
        masked = RefundAccount(bank="", number=data.account or "", holder="").masked_number
        context = texts.inquiry_context_other_name(
            str(service_id), data.bank or "", masked, data.typed_holder or "", turn.customer.name
        )
        # What they filled in goes with the inquiry, so the agent need not ask again; the
        # account is encrypted with the inquiry like a request's.
        account = None
        if data.account:
            holder = data.typed_holder or ""
            account = RefundAccount(bank=data.bank or "", number=data.account, holder=holder)
        refund = InquiryRefund(reason=data.reason, message=data.message, account=account)
        turn.say(texts.OTHER_NAME_NOT_FILED)
    else:
        topic, service_id = "not_eligible", None
        context = await blocked_context(turn)
    customer_id = turn.customer.id
    turn.reset()
    turn.data.flow = secrets.token_urlsafe(6)
    turn.data.customer = customer_id
    turn.data.inquiry = InquiryDraft(
        topic=topic, service=service_id, context=context, refund=refund
    )
    return GoTo(INQUIRY_FORMS[topic][0])


class InquiryMessage(Step):
    """What the customer wants the customer centre to know."""

    state = State.INQUIRY_MESSAGE
    free_text = True

    async def prompt(self, turn: Turn) -> Reply:
        limit = turn.deps.limits.message_limit
        return Reply(texts.ASK_INQUIRY.format(limit=limit), (turn.nav(back=False),))

    async def on_text(self, turn: Turn, text: str) -> Outcome | None:
        if not clean_message(text):
            return Reprompt(texts.INQUIRY_BLANK)
        if too_short(text):
            return Reprompt(texts.INQUIRY_TOO_SHORT)
        message = required_text(turn, text)
        if isinstance(message, Reprompt):
            return message
        assert turn.data.inquiry is not None
        turn.data.inquiry.message = message
        if len(INQUIRY_FORMS[turn.data.inquiry.topic]) > 1:
            return Next()
        return await file_inquiry(turn, [])


class InquiryAttach(Step):
    """The 확인증 for a refund to another person's account (a photo or a file)."""

    state = State.INQUIRY_ATTACH

    async def prompt(self, turn: Turn) -> Reply:
        if not turn.deps.accepts_files:
            # The 확인증 goes to the 1:1 board, as the help centre says; the inquiry is filed here.
            send = turn.flow_button(texts.BTN_FILE_INQUIRY, "no_attachment")
            return Reply(texts.ASK_ATTACHMENT_ELSEWHERE, ((send,), turn.nav()))
        skip = turn.flow_button(texts.BTN_NO_ATTACHMENT, "no_attachment")
        return Reply(texts.ASK_ATTACHMENT, ((skip,), turn.nav()))

    async def on_press(self, turn: Turn, action: str, arg: str) -> Outcome | None:
        return await file_inquiry(turn, []) if action == "no_attachment" else None

    async def on_text(self, turn: Turn, text: str) -> Outcome | None:
        if not turn.deps.accepts_files:
            return Reprompt(texts.ATTACHMENT_ELSEWHERE_EXPECTED)
        return Reprompt(texts.ATTACHMENT_EXPECTED)


async def on_upload(turn: Turn, upload: Upload) -> Outcome | None:
    """A file or photo: the 확인증 at the attachment step; elsewhere only text is understood."""
    if turn.state is not State.INQUIRY_ATTACH:
        turn.say(texts.TEXT_ONLY)
        return None
    attachment = Attachment(
        file_id=upload.file_id,
        kind=upload.kind,
        file_name=upload.file_name,
        mime_type=upload.mime_type,
        size=upload.size,
    )
    return await file_inquiry(turn, [attachment])


async def file_inquiry(turn: Turn, attachments: list[Attachment]) -> Outcome:
    """File the inquiry (a replayed submission files once) and leave the flow."""
    assert turn.customer is not None and turn.data.inquiry is not None
    draft, flow = turn.data.inquiry, turn.data.flow
    assert draft.message is not None
    try:
        filed, _ = await turn.deps.helpdesk.inquiries.file(
            InquiryFiling(
                customer_id=turn.customer.id,
                service_id=draft.service,
                topic=draft.topic,
                context=draft.context,
                message=draft.message,
                transcript=tuple(turn.data.recent),
                attachments=tuple(attachments),
                channel=turn.deps.channel,
                chat_id=turn.chat_id,
                submission_key=f"{turn.chat_id}:{flow}",
                refund=draft.refund,
            ),
            tx=turn.tx,
        )
    except NotFound:
        turn.reset()
        turn.say(texts.INQUIRY_NOT_FILED)
        return Stay()
    turn.reset()
    turn.say(texts.inquiry_filed(filed.number, len(filed.attachments)))
    return Stay()


STEPS: tuple[Step, ...] = (InquiryMessage(), InquiryAttach())
