"""The channel-free dialogue engine.

Input: a chat id plus text, a button press or an upload. Output: replies (text + rows of
buttons). The engine knows nothing of Telegram, KakaoTalk or terminals; state lives in the
database, so a restart resumes every conversation where it was and several processes can serve
the same chats.

Where things are:
    engine.py    the turn runner (one unit of work per turn, retried whole on a conflict)
    router.py    where an input goes (commands, buttons, stop words, FAQ, the current step)
    flow.py      the states, the forms' order, outcomes and the Step base class; flow.mmd
    refund.py    the refund request's steps;  inquiry.py  the hand-off's steps
    machine.py   the steps put together: declared moves, next/back, re-prompts
    faq.py, account.py, services.py, menus.py   answers, linking/status, "my services", buttons
"""

from bot.dialogue.engine import Engine
from bot.dialogue.events import (
    Button,
    Event,
    Opened,
    Press,
    Reply,
    TextInput,
    Upload,
    iter_payloads,
)
from bot.dialogue.turn import DialogueLimits

__all__ = [
    "Button",
    "DialogueLimits",
    "Engine",
    "Event",
    "Opened",
    "Press",
    "Reply",
    "TextInput",
    "Upload",
    "iter_payloads",
]
