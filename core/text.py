"""Text helpers shared by every layer: one normaliser for comparisons, and redaction.

`redact` runs on every text the program stores or logs that a customer typed (FAQ events,
inquiry messages, transcripts, request messages): link codes and account-like numbers must not
be kept in the clear outside the encrypted account column.
"""

from __future__ import annotations

import re
import unicodedata

ACCOUNT_DIGITS_MIN = 10

# Digits joined by any of the separators people type in numbers: 110-123-456789, 110.123.456789,
# 110/123/456789, 110_123_456789, 110 123 456789.
_NUMBER_RUN = re.compile(r"\d(?:[ \t\-./_]*\d)+")
# A token as long as a link code (secrets.token_urlsafe(16) is 22 characters) or longer.
_CODE_LIKE = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{20,}(?![A-Za-z0-9_-])")
CODE_PLACEHOLDER = "[코드]"


def squash(text: str) -> str:
    """The form two texts are compared in: NFKC, no whitespace, case folded."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def mask_digits(number: str) -> str:
    """Hide every digit but the last four, keeping the layout (`***-***-9012`)."""
    total = sum(ch.isdigit() for ch in number)
    seen = 0
    out = []
    for ch in number:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > total - 4 else "*")
        else:
            out.append(ch)
    return "".join(out)


def mask_numbers(text: str) -> str:
    """Mask every run of 10 or more digits, whatever separates them, but its last four."""

    def mask(match: re.Match[str]) -> str:
        run = match.group(0)
        digits = sum(ch.isdigit() for ch in run)
        return mask_digits(run) if digits >= ACCOUNT_DIGITS_MIN else run

    return _NUMBER_RUN.sub(mask, text)


def redact(text: str) -> str:
    """Text safe to keep: account-like numbers masked, link-code-like tokens replaced."""
    return _CODE_LIKE.sub(CODE_PLACEHOLDER, mask_numbers(text))
