"""A second matching signal: a linear model over character, word and jamo n-grams.

The rule matcher (faq/matcher.py) reads *evidence* that the knowledge base lists; it is precise
on the phrasings it was written for and blind to the others. This model reads the whole message
as a bag of n-grams and was trained (offline, ``helpdesk faq train``) on messages by writers who
never saw the knowledge base, plus the knowledge base's own phrasings. Eleven classes: the six
FAQ intents, the four conversation acts and ``none`` (greetings, other topics, near-misses).

The shipped weights (faq/data/classifier.json) are plain data: inference is pure Python (a dict
lookup per feature and a softmax), so the bot needs no machine-learning library at run time.
The file records a hash of everything it was trained from (see ``inputs_digest``); a test
checks that it matches the training data, so neither is edited without the other.

The date reader's verdict (faq/dates.py) enters as a feature (``§over``, ``§within``, ...): the
model learns what a service's stated age means, but the age itself is always read against today.
"""

from __future__ import annotations

import base64
import json
import math
import re
import sys
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from faq.dates import Elapsed
from faq.normalize import to_jamo

__all__ = [
    "CLASSES",
    "FEATURE_VERSION",
    "Classifier",
    "Prediction",
    "features",
    "load_classifier",
]

# Bump when features() changes: the shipped weights then no longer fit and must be retrained.
FEATURE_VERSION = 3

CLASSES: tuple[str, ...] = (
    "how_to_cancel",
    "not_in_list",
    "sms_charge_refund",
    "mycash_refund",
    "bank_transfer_refund",
    "past_deadline",
    "withdraw_request",
    "request_status",
    "human_agent",
    "complaint",
    "none",
)

_DIGITS = re.compile(r"\d+")


def features(normalized: str, elapsed: Elapsed | None = None) -> list[str]:
    """The features of one normalised message (as produced by the matcher's Normalizer).

    - character 2-4-grams of the text with spaces removed, ends marked with < and >
      (customers space at random);
    - the words of the spaced text, as "w:word";
    - jamo 3-grams (a one-jamo typo keeps most of them; jamo never clash with syllables);
    - the date reader's verdict on the service's age, and whether a time belongs to a request.
    Character and jamo n-grams carry no prefix: they are most of the features, and the cost
    of building a string per feature is most of the model's time per message.
    """
    # Numbers become "0": the model must not learn that "11월 20일" was late on the day the
    # corpus was written; whether a date or duration is past the deadline is the date reader's
    # verdict, given as a feature below.
    text = _DIGITS.sub("0", normalized[:300])
    comp = text.replace(" ", "")
    marked = f"<{comp}>"
    size = len(marked)
    out: list[str] = [marked[i : i + n] for n in (2, 3, 4) for i in range(size - n + 1)]
    out += ["w:" + w for w in text.split()]
    jamo = to_jamo(comp)
    out += [jamo[i : i + 3] for i in range(len(jamo) - 2)]
    if elapsed is not None:
        if elapsed.verdict is not None:
            out.append(f"§{elapsed.verdict}")
        if elapsed.about_request:
            out.append("§request-time")
    if not out:
        out.append("§empty")
    return out


@dataclass(frozen=True, slots=True)
class Prediction:
    """Class probabilities for one message, best first."""

    probs: Mapping[str, float]

    @property
    def ranked(self) -> list[tuple[str, float]]:
        """(class, probability), most probable first."""
        return sorted(self.probs.items(), key=lambda kv: kv[1], reverse=True)

    @property
    def top(self) -> tuple[str, float]:
        """The most probable class and its probability."""
        return self.ranked[0]


class Classifier:
    """Multinomial logistic regression over sparse binary features (pure Python)."""

    def __init__(
        self,
        classes: Sequence[str],
        bias: Sequence[float],
        weights: Mapping[str, Sequence[float]],
        meta: Mapping[str, object] | None = None,
    ) -> None:
        self.classes = tuple(classes)
        self.bias = tuple(float(b) for b in bias)
        # Feature -> its weight for each class, so a message costs one dict lookup per feature
        # and one C-level sum per class. (The trainer leaves out features no class weighs.)
        self._rows: Mapping[str, Sequence[float]] = (
            weights if isinstance(weights, dict) else dict(weights)
        )
        self.meta = dict(meta or {})

    def scores(self, feats: Iterable[str]) -> list[float]:
        """Raw class scores (logits) for a list of features (duplicates count once)."""
        present = list(filter(None, map(self._rows.get, set(feats))))
        if not present:
            return list(self.bias)
        return [b + sum(col) for b, col in zip(self.bias, zip(*present, strict=True), strict=True)]

    def predict(self, feats: Iterable[str]) -> Prediction:
        """Class probabilities (softmax of the scores)."""
        logits = self.scores(feats)
        top = max(logits)
        exps = [math.exp(s - top) for s in logits]
        total = sum(exps)
        return Prediction({c: e / total for c, e in zip(self.classes, exps, strict=True)})

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Classifier:
        """Build from the shipped JSON (written by faq/train.py) or a fit's document.

        The shipped file holds the weights as little-endian float32, base64 ("weights_f32",
        one row of len(classes) per feature): parsing 160,000 decimal numbers was a third of
        the knowledge base's load time. A fit in memory gives them as lists ("weights").
        """
        classes, bias = data["classes"], data["bias"]
        vocab = data["features"]
        rows = data.get("weights")
        packed = data.get("weights_f32")
        if rows is None and isinstance(packed, str) and isinstance(classes, list) and classes:
            values = array("f")
            values.frombytes(base64.b64decode(packed))
            if sys.byteorder == "big":
                values.byteswap()
            if len(values) % len(classes):
                raise ValueError("classifier.json: weights_f32 is not whole rows")
            rows = list(zip(*[iter(values)] * len(classes), strict=True))
        if not (
            isinstance(classes, list)
            and isinstance(bias, list)
            and isinstance(vocab, list)
            and isinstance(rows, list)
            and len(vocab) == len(rows)
            and len(bias) == len(classes)
        ):
            raise ValueError("classifier.json: malformed (classes, bias, features, weights)")
        meta = {
            k: v for k, v in data.items() if k not in {"bias", "features", "weights", "weights_f32"}
        }
        return cls(classes, bias, dict(zip(vocab, rows, strict=True)), meta)


def default_model_path() -> Path:
    """Location of the shipped weights."""
    return Path(str(resources.files("faq").joinpath("data/classifier.json")))


def load_classifier(path: str | Path | None = None) -> Classifier | None:
    """Load the shipped (or given) weights; None when the file does not exist."""
    if path is None:
        return _load_default()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _load_default() -> Classifier | None:
    return _load(default_model_path())


def _load(path: Path) -> Classifier | None:
    if not path.exists():
        return None
    return Classifier.from_json(json.loads(path.read_text(encoding="utf-8")))
