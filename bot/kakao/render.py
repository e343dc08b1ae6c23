"""Engine replies as a skill response that keeps to Kakao's documented limits (bot/kakao/skill.py).

Pure functions, no I/O. How a turn's replies are laid out:

- Texts become `simpleText` bubbles of at most 1,000 characters: consecutive replies share a
  bubble where they fit, a longer text is split at line breaks (else at spaces). Kakao shows at
  most 3 outputs; when a turn needs more, the last two bubbles (where the current question is)
  stay whole and the front is shortened with a visible "(길어서 줄였어요)" mark.
- A notification (bot/notify.py, delivered on the customer's next answer) comes first, marked 🔔,
  in the bubbles the answer leaves free (the answer always leaves it one), its end shortened
  if it cannot fit.
- The buttons of the turn become quick replies (at most 10) whose `messageText` is the *full*
  label, so the engine recognises the press as a typed label; a label over 14 characters is
  shown shortened (at a word boundary, with "…") and kept unique. Beyond 10 buttons the last row
  (the step's 이전 단계/그만하기) stays a quick reply, the overflow goes into text cards of 3
  buttons while outputs are left, and anything still left is named in the text ("그대로 입력해
  주세요"), which works because a typed label counts as the press.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot import texts
from bot.dialogue import Button
from bot.kakao.skill import (
    CARD_BUTTONS_MAX,
    LABEL_MAX,
    MAX_OUTPUTS,
    QUICK_REPLIES_MAX,
    SIMPLE_TEXT_MAX,
    CardButton,
    Output,
    QuickReply,
    SkillResponse,
    Template,
    TextCard,
    message_button,
    message_reply,
    simple_text,
)

ELLIPSIS = "…"
Rows = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Answer:
    """What one skill response shows: a notification, the turn's texts and its buttons."""

    texts: tuple[str, ...]
    rows: Rows = ()
    notice: str | None = None


# text ------------------------------------------------------------------------------------------


def split_text(text: str, limit: int = SIMPLE_TEXT_MAX) -> list[str]:
    """Cut `text` into pieces of at most `limit` characters: at line breaks, else at spaces."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut < limit // 2:
            cut = max(cut, rest.rfind(" ", 0, limit + 1))
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n")
        if rest.startswith(" ") and not rest.startswith("  "):
            rest = rest[1:]  # the space we cut at; an indented line keeps its indent
    pieces.append(rest)
    return [p for p in pieces if p.strip()]


def pack(parts: Sequence[str], limit: int = SIMPLE_TEXT_MAX) -> list[str]:
    """Bubbles for `parts` in order: merged where they fit together, split where too long."""
    bubbles: list[str] = []
    for part in parts:
        for piece in split_text(part, limit):
            if bubbles and len(bubbles[-1]) + 2 + len(piece) <= limit:
                bubbles[-1] = f"{bubbles[-1]}\n\n{piece}"
            else:
                bubbles.append(piece)
    return bubbles


def clip(text: str, limit: int = SIMPLE_TEXT_MAX) -> str:
    """`text` cut to at most `limit` characters (at a line break where one is near), marked."""
    if len(text) <= limit:
        return text
    return _marked(text, limit)


def _marked(text: str, limit: int) -> str:
    """`text` with the "shortened" mark, cut so that both fit in `limit` characters."""
    mark = "\n" + texts.KAKAO_SHORTENED
    kept = text[: max(0, limit - len(mark))]
    line = kept.rfind("\n")
    if len(kept) < len(text) and line >= len(kept) // 2:
        kept = kept[:line]
    return (kept.rstrip() + mark).strip()[:limit]


def squeeze(bubbles: list[str], outputs: int, limit: int = SIMPLE_TEXT_MAX) -> list[str]:
    """At most `outputs` bubbles: the last ones stay whole, the front is merged and clipped."""
    if len(bubbles) <= outputs:
        return bubbles
    if outputs <= 0:
        return []
    keep = bubbles[len(bubbles) - (outputs - 1) :] if outputs > 1 else []
    front = "\n\n".join(bubbles[: len(bubbles) - len(keep)])
    return [clip(front, limit), *keep]


def head(bubbles: list[str], outputs: int, limit: int = SIMPLE_TEXT_MAX) -> list[str]:
    """At most `outputs` bubbles, keeping the beginning (a notification's number and decision)."""
    if len(bubbles) <= outputs:
        return bubbles
    kept = bubbles[:outputs]
    kept[-1] = _marked(kept[-1], limit)
    return kept


def bubbles_needed(parts: Sequence[str]) -> int:
    """How many outputs the texts of a turn take (at most MAX_OUTPUTS after squeezing)."""
    return min(len(pack(parts)), MAX_OUTPUTS)


# labels ----------------------------------------------------------------------------------------


def shorten_label(label: str, limit: int = LABEL_MAX) -> str:
    """A label of at most `limit` characters: whole words while they fit, then "…"."""
    label = " ".join(label.split())
    if len(label) <= limit:
        return label
    kept = ""
    for word in label.split(" "):
        candidate = f"{kept} {word}" if kept else word
        if len(candidate) > limit - 1:
            break
        kept = candidate
    kept = kept.rstrip(" ·-/,")
    if len(kept) < limit // 2:  # one long word: cut inside it
        kept = label[: limit - 1].rstrip()
    return kept + ELLIPSIS


def display_labels(labels: Sequence[str], limit: int = LABEL_MAX) -> list[str]:
    """Shortened labels, distinct from each other (a clash gets a number: "…2")."""
    shown: list[str] = []
    for label in labels:
        candidate = shorten_label(label, limit)
        number = 1
        while candidate in shown:
            number += 1
            suffix = f"{ELLIPSIS}{number}"
            candidate = label[: limit - len(suffix)].rstrip() + suffix
        shown.append(candidate)
    return shown


def distinct_buttons(rows: Rows) -> list[list[Button]]:
    """The rows with labels trimmed, without empty ones or one already offered (first wins)."""
    seen: set[str] = set()
    kept: list[list[Button]] = []
    for row in rows:
        out = []
        for button in row:
            label = button.label.strip()
            if label and label not in seen:
                seen.add(label)
                out.append(Button(label, button.payload))
        if out:
            kept.append(out)
    return kept


def split_buttons(rows: Rows) -> tuple[list[Button], list[Button]]:
    """(quick replies, overflow): at most 10 quick replies, the last row kept among them."""
    kept = distinct_buttons(rows)
    flat = [b for row in kept for b in row]
    if len(flat) <= QUICK_REPLIES_MAX:
        return flat, []
    last = kept[-1] if len(kept[-1]) <= CARD_BUTTONS_MAX else []
    rest = flat[: len(flat) - len(last)]
    room = QUICK_REPLIES_MAX - len(last)
    return rest[:room] + last, rest[room:]


# the response ----------------------------------------------------------------------------------


def render(answer: Answer) -> SkillResponse:
    """The skill response for `answer`, valid whatever the number and length of its parts."""
    # A notification is never dropped: the turn's texts leave it at least one output.
    body = squeeze(pack(answer.texts), MAX_OUTPUTS - (1 if answer.notice else 0))
    notice: list[str] = []
    if answer.notice:
        marked = f"{texts.KAKAO_NOTICE_MARK} {answer.notice}"
        notice = head(pack([marked]), MAX_OUTPUTS - len(body))
    bubbles = notice + body
    quick, overflow = split_buttons(answer.rows)
    labels = display_labels([b.label for b in quick + overflow])
    shown = dict(zip((b.label for b in quick + overflow), labels, strict=True))
    if not bubbles:
        bubbles = [texts.KAKAO_EMPTY]
    cards: list[Output] = []
    while overflow and len(bubbles) + len(cards) < MAX_OUTPUTS:
        batch, overflow = overflow[:CARD_BUTTONS_MAX], overflow[CARD_BUTTONS_MAX:]
        buttons: list[CardButton] = [message_button(shown[b.label], b.label) for b in batch]
        card = TextCard(description=texts.KAKAO_MORE_CHOICES, buttons=buttons)
        cards.append(Output(textCard=card))
    if overflow:
        line = texts.KAKAO_TYPE_CHOICE.format(choices=", ".join(b.label for b in overflow))
        bubbles[-1] = _append_line(bubbles[-1], line)
    outputs = [simple_text(b) for b in bubbles] + cards
    replies: list[QuickReply] = [message_reply(shown[b.label], b.label) for b in quick]
    return SkillResponse(template=Template(outputs=outputs, quickReplies=replies or None))


def _append_line(bubble: str, line: str, limit: int = SIMPLE_TEXT_MAX) -> str:
    line = clip(line, limit * 3 // 4)
    room = limit - len(line) - 1
    return f"{clip(bubble, room)}\n{line}"
