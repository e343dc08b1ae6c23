"""The conversation's states, what a step is, and what a step can ask for next.

A step (one per state) holds what the customer sees at that point (`prompt`), what a button
press or typed text does there (`on_press`, `on_text`) and where it may lead (`exits`, besides
the next and previous step of its form). Steps never change the state themselves: they return an
outcome, and `bot.dialogue.machine` moves the conversation, refusing any move that is not
declared. Each flow's module (refund.py, inquiry.py) holds its steps and its forms: the order of
the steps is data, and "next" and "back" follow from it. The Mermaid diagram `flow.mmd` beside
this file is checked against the declaration by a test.

Adding a step: a `State`, a `Step` subclass in its flow's module (prompt, inputs, exits), its
place in the flow's form, and its edges in `flow.mmd`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from bot.dialogue.events import Reply
    from bot.dialogue.turn import Turn


class State(StrEnum):
    """Where a chat is in the conversation."""

    IDLE = "idle"
    CHOOSE_SERVICE = "choose_service"
    BREAKDOWN = "breakdown"
    REASON = "reason"
    MESSAGE = "message"
    BANK = "bank"
    ACCOUNT = "account"
    HOLDER = "holder"
    CONFIRM = "confirm"
    INQUIRY_MESSAGE = "inquiry_message"
    INQUIRY_ATTACH = "inquiry_attach"
    WITHDRAW = "withdraw"


Form = tuple[State, ...]
"""A flow's steps in order (as Rasa's `required_slots`): next and back follow from it."""


def following(form: Form, state: State) -> State | None:
    """The step after `state` in `form`, or None at its end."""
    index = form.index(state)
    return form[index + 1] if index + 1 < len(form) else None


def preceding(form: Form, state: State) -> State | None:
    """The step before `state` in `form`, or None at its start."""
    index = form.index(state)
    return form[index - 1] if index > 0 else None


# Outcomes: what a step asks the machine to do next ------------------------------------------


@dataclass(frozen=True)
class Next:
    """Go on to the next step of the form."""


@dataclass(frozen=True)
class GoTo:
    """Go to a declared exit of the step."""

    state: State


@dataclass(frozen=True)
class Reprompt:
    """The input was not usable: say why and ask again (it counts towards the ladder)."""

    problem: str


@dataclass(frozen=True)
class Stay:
    """The step has answered already; stay where the conversation now is."""


Outcome = Next | GoTo | Reprompt | Stay


class Step(ABC):
    """One state of a flow: its prompt, what its inputs do, and its exits."""

    state: ClassVar[State]
    exits: ClassVar[frozenset[State]] = frozenset()
    """Where the step may lead besides the next and previous step of its form."""
    free_text: ClassVar[bool] = False
    """Typed text is this step's answer (not a question to the FAQ)."""

    @abstractmethod
    async def prompt(self, turn: Turn) -> Reply:
        """The question of this step, with its buttons."""

    async def on_press(self, turn: Turn, action: str, arg: str) -> Outcome | None:
        """A press of one of this step's buttons; None when it is not one of them."""
        return None

    async def on_text(self, turn: Turn, text: str) -> Outcome | None:
        """Typed text; None when it does not answer this step."""
        return None
