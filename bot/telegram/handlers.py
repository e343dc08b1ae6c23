"""What the bot does with each update, and how it answers in the chat.

Customers' messages and presses go to the engine (or, with a staff chat, to the agent a case is
with); the staff chat's updates go to the `StaffDesk`; groups get one note that the bot works
in 1:1 chats only. A pressed button is answered at once, and its message edited to show the
choice and to drop the old keyboard.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import MessageLimit
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot import texts
from bot.dialogue import Engine, Press, Reply, TextInput
from bot.staff import StaffDesk
from bot.telegram.messages import CHAT_PREFIX, pressed_label, telegram_messages, upload_of
from bot.telegram.sending import deliver_messages, deliver_replies, send_with_retry

log = logging.getLogger(__package__)  # log lines read `bot.telegram:`, whichever module wrote them


class UpdateHandlers:
    """The handlers PTB calls; they do nothing until the channel hands them the engine."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.staff: StaffDesk | None = None  # with a staff chat only

    def add_to(self, app: Application, staff_chat_id: int | None) -> None:
        """Register the handlers, the staff chat's first (it is a group too)."""
        # New messages only: an edited old message is not a new answer to the current step,
        # so edits in private chats match no handler and are ignored.
        private_new = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        if staff_chat_id is not None:
            staff_chat = filters.Chat(chat_id=staff_chat_id)
            app.add_handler(
                MessageHandler(staff_chat & filters.UpdateType.MESSAGE, self.on_staff_message)
            )
            # Edits, joins and other updates of the staff chat: nothing to say there.
            app.add_handler(MessageHandler(staff_chat, self.on_nothing))
        app.add_handler(MessageHandler(~filters.ChatType.PRIVATE, self.on_group_message))
        app.add_handler(CallbackQueryHandler(self.on_callback))
        app.add_handler(MessageHandler(private_new & filters.TEXT, self.on_text))
        app.add_handler(MessageHandler(private_new & ~filters.TEXT, self.on_other))
        app.add_error_handler(self.on_error)

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A private text message (commands included)."""
        message = update.effective_message
        if message is None or message.text is None or self.engine is None:
            return
        chat_key = f"{CHAT_PREFIX}{message.chat_id}"
        if self.staff is not None:
            relayed = await self.staff.relay_from_customer(chat_key, message.text, None)
            if relayed is not None:
                await self._send(context, message.chat_id, relayed)
                return
        replies = await self.engine.handle(chat_key, TextInput(message.text))
        await self._send(context, message.chat_id, replies)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A pressed inline button."""
        query = update.callback_query
        if query is None or self.engine is None:
            return
        message = query.message
        if (
            self.staff is not None
            and isinstance(message, Message)
            and message.chat_id == self.staff.chat_id
        ):
            # Answered there, with what was done (or not at all: a press by a non-member).
            await self.staff.on_callback(update, context)
            return
        try:
            await query.answer()
        except TelegramError as exc:
            # Best effort: pressed long ago or before a restart ("query is too old"), or the
            # Bot API hiccuped. The spinner stops by itself; the press must still be handled.
            log.info("callback answer refused (update %s): %s", update.update_id, exc.message)
        if not isinstance(message, Message) or message.chat.type != "private":
            return
        payload = query.data or ""
        replies = await self.engine.handle(f"{CHAT_PREFIX}{message.chat_id}", Press(payload))
        messages = telegram_messages(replies)
        if not (replies and replies[0].continues_press):
            # Not the live menu (an older message, or a second tap after the first answered):
            # its text may be out of date, so only its keyboard is taken away.
            await self._drop_keyboard(message)
        elif await self._answer_in_place(message, payload, messages[0]):
            messages = messages[1:]
        else:
            await self._mark_chosen(message, payload)
        try:
            await deliver_messages(context.application, message.chat_id, messages)
        except Forbidden:
            log.info("chat blocked the bot; reply dropped")

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Photos and files go to the engine (a 확인증 for an inquiry); the rest is refused."""
        message = update.effective_message
        if message is None or self.engine is None:
            return
        upload = upload_of(message)
        if upload is None:
            await self._send(context, message.chat_id, [Reply(texts.TEXT_ONLY)])
            return
        chat_key = f"{CHAT_PREFIX}{message.chat_id}"
        if self.staff is not None:
            relayed = await self.staff.relay_from_customer(chat_key, None, upload)
            if relayed is not None:
                await self._send(context, message.chat_id, relayed)
                return
        replies = await self.engine.handle(chat_key, upload)
        await self._send(context, message.chat_id, replies)

    async def on_staff_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A message in the staff chat (agents at work)."""
        if self.staff is not None:
            await self.staff.on_message(update, context)

    async def on_nothing(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An update that needs no answer."""

    async def on_group_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The bot works in 1:1 chats only; say so once per group."""
        chat = update.effective_chat
        if chat is None or self.engine is None:
            return
        # Remembered in the database so a restart does not repeat the note in every group.
        key = f"group_told:{chat.id}"
        if await self.engine.helpdesk.values.get(key) is not None:
            return
        await self.engine.helpdesk.values.set(key, "1")
        await self._send(context, chat.id, [Reply(texts.PRIVATE_ONLY)])

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log a failed update (never the token) and apologise to the customer."""
        update_id = update.update_id if isinstance(update, Update) else None
        error = context.error
        log.error(
            "update %s failed: %s: %s",
            update_id,
            type(error).__name__,
            error,
            exc_info=error if not isinstance(error, TelegramError) else None,
        )
        if isinstance(update, Update) and update.effective_chat is not None:
            if update.effective_chat.type != "private":
                return
            try:
                await context.bot.send_message(
                    update.effective_chat.id, texts.ERROR.format(filed=texts.ERROR_CHECK_STATUS)
                )
            except TelegramError:
                log.warning("could not deliver the apology for update %s", update_id)


    # output ---------------------------------------------------------------------------------

    async def _answer_in_place(
        self, message: Message, payload: str, first: tuple[str, InlineKeyboardMarkup | None]
    ) -> bool:
        """Edit the pressed message into the choice and the first answer (one counted call).

        The transcript keeps the question, `👉 <choice>` and the next step in that message, and
        the old keyboard is replaced by the next step's, so no older button stays pressable.
        False when it does not fit one message (the caller marks the choice and sends).
        """
        label = pressed_label(message, payload)
        if label is None or not message.text:
            return False
        answer, markup = first
        text = f"{message.text}\n\n👉 {label}\n\n{answer}"
        if len(text) > MessageLimit.MAX_TEXT_LENGTH:
            return False
        try:
            await send_with_retry(
                lambda: message.edit_text(text, reply_markup=markup),
                "editMessageText",
                resend_unconfirmed=1,  # the same edit twice shows the same message
            )
        except TelegramError as exc:
            log.info("could not answer in the pressed message: %s", exc)
            return False
        return True

    async def _drop_keyboard(self, message: Message) -> None:
        """Take the keyboard off a message whose buttons are no longer for the current step."""
        if message.reply_markup is None:
            return
        try:
            await message.edit_reply_markup(reply_markup=None)
        except TelegramError as exc:
            log.info("could not take the old keyboard away: %s", exc)

    async def _mark_chosen(self, message: Message, payload: str) -> None:
        """Edit the pressed message: show the choice and drop the old keyboard."""
        label = pressed_label(message, payload)
        if label is None or not message.text:
            return
        text = f"{message.text}\n\n👉 {label}"
        if len(text) > MessageLimit.MAX_TEXT_LENGTH:
            return
        try:
            await message.edit_text(text)
        except TelegramError as exc:
            log.info("could not mark the chosen button: %s", exc)

    async def _send(
        self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, replies: list[Reply]
    ) -> None:
        try:
            await deliver_replies(context.application, chat_id, replies)
        except Forbidden:
            log.info("chat blocked the bot; reply dropped")

