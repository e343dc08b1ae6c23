"""The FAQ knowledge base: loading and validating faq/data/intents.toml."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = [
    "ACTIONS",
    "ACT_IDS",
    "INTENT_IDS",
    "Act",
    "Intent",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "MatchingConfig",
    "load_knowledge_base",
    "parse_acts",
    "pattern_parts",
]

# The six intents of the seed, in its order; ids are stable (logs, exports, tests, CLI).
INTENT_IDS: tuple[str, ...] = (
    "how_to_cancel",
    "not_in_list",
    "sms_charge_refund",
    "mycash_refund",
    "bank_transfer_refund",
    "past_deadline",
)
# Conversation acts: things customers say that are not FAQ questions (faq/data/acts.toml).
ACT_IDS: tuple[str, ...] = ("withdraw_request", "request_status", "human_agent", "complaint")
# Next actions the engine knows how to render; "faq:<intent_id>" links a related FAQ.
ACTIONS: frozenset[str] = frozenset({"refund", "my_services", "contact"})
_FAQ_ACTION = re.compile(r"^faq:([a-z_]+)$")
_HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")
_TITLE_MAX = 20


class KnowledgeBaseError(ValueError):
    """The knowledge-base file is missing, unreadable or has an invalid entry."""


@dataclass(frozen=True, slots=True)
class Intent:
    """One FAQ entry: the seed's question, the bot's answer and how customers ask it."""

    id: str
    number: int
    question: str
    title: str
    answer: str
    actions: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    phrasings: tuple[str, ...] = ()
    weight: float = 1.0
    elapsed_days_over: int | None = None
    anchors: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    decisive: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Act:
    """A conversation act (status, withdrawal, a person, anger): recognised, not answered."""

    id: str
    title: str
    patterns: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    phrasings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MatchingConfig:
    """Knowledge-base-wide matching vocabulary (scope gate, veto list, vague questions)."""

    topic: tuple[str, ...] = ()
    veto: tuple[str, ...] = ()
    soft_veto: tuple[str, ...] = ()
    ambiguous: tuple[str, ...] = ()
    protected: tuple[str, ...] = ()
    product: tuple[str, ...] = ()
    follow_up: tuple[str, ...] = ()
    neutral: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """The validated knowledge base; intents are in the seed's order ①..⑥."""

    intents: tuple[Intent, ...]
    matching: MatchingConfig = field(default_factory=MatchingConfig)
    synonyms: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    chosung: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    source: str = "intents.toml"
    acts: tuple[Act, ...] = ()

    def get(self, intent_id: str) -> Intent:
        """Return the intent with this id; KeyError if there is none."""
        for intent in self.intents:
            if intent.id == intent_id:
                return intent
        raise KeyError(intent_id)

    @property
    def ids(self) -> tuple[str, ...]:
        """Intent ids in the seed's order."""
        return tuple(i.id for i in self.intents)


# A pattern is "A ~ B": A, then B within a few characters; "a|b" are alternatives.
PATTERN_GAP = 12


def pattern_parts(pattern: str) -> list[list[str]]:
    """Split a pattern into its parts and each part into alternatives (spaces kept)."""
    return [[alt.strip() for alt in part.split("|")] for part in pattern.split("~")]


def _check_patterns(r: _Reader, name: str) -> tuple[str, ...]:
    """A list of "A|B ~ C" patterns with no empty part or alternative."""
    patterns = r.words(name)
    for pattern in patterns:
        for part in pattern_parts(pattern):
            if not all(part):
                raise r.error(name, f"has an empty part in pattern {pattern!r}")
    return patterns


def _default_path() -> Path:
    """Location of the packaged knowledge base."""
    return Path(str(resources.files("faq").joinpath("data/intents.toml")))


class _Reader:
    """Field accessors that raise errors naming the file, the entry and the field."""

    def __init__(self, source: str, entry: str, table: Mapping[str, Any]) -> None:
        self.source, self.entry, self.table = source, entry, table

    def error(self, field_name: str, problem: str) -> KnowledgeBaseError:
        """Build an error message naming the entry and field."""
        return KnowledgeBaseError(f"{self.source}: {self.entry}: field '{field_name}' {problem}")

    def text(self, name: str, *, required: bool = True, default: str = "") -> str:
        """A non-empty string field."""
        if name not in self.table:
            if required:
                raise self.error(name, "is missing")
            return default
        value = self.table[name]
        if not isinstance(value, str):
            raise self.error(name, f"must be text, got {type(value).__name__}")
        value = value.strip()
        if not value:
            raise self.error(name, "is empty")
        return value

    def words(self, name: str, *, required: bool = False) -> tuple[str, ...]:
        """A list of non-empty strings (duplicates removed, order kept)."""
        if name not in self.table:
            if required:
                raise self.error(name, "is missing")
            return ()
        value = self.table[name]
        if not isinstance(value, list):
            raise self.error(name, f"must be a list of text, got {type(value).__name__}")
        out: list[str] = []
        for pos, item in enumerate(value, start=1):
            if not isinstance(item, str) or not item.strip():
                raise self.error(name, f"item {pos} must be non-empty text, got {item!r}")
            if item.strip() not in out:
                out.append(item.strip())
        return tuple(out)

    def integer(self, name: str, *, required: bool = True) -> int | None:
        """An integer field."""
        if name not in self.table:
            if required:
                raise self.error(name, "is missing")
            return None
        value = self.table[name]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, f"must be a whole number, got {value!r}")
        return value

    def number(self, name: str, default: float) -> float:
        """A float field between 0 and 1."""
        if name not in self.table:
            return default
        value = self.table[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            raise self.error(name, f"must be a number in (0, 1], got {value!r}")
        return float(value)


_INTENT_FIELDS = frozenset(
    {
        "id", "number", "question", "title", "answer", "actions", "keywords", "hints",
        "exclude", "phrasings", "weight", "elapsed_days_over", "anchors", "patterns", "decisive",
    }
)
_ACT_FIELDS = frozenset({"id", "title", "patterns", "exclude", "phrasings"})


def _parse_intent(source: str, position: int, table: Any, known_ids: tuple[str, ...]) -> Intent:
    """Validate one [[intent]] table."""
    if not isinstance(table, dict):
        raise KnowledgeBaseError(f"{source}: intent #{position} must be a table")
    raw_id = table.get("id")
    entry = f"intent '{raw_id}'" if isinstance(raw_id, str) and raw_id else f"intent #{position}"
    r = _Reader(source, entry, table)
    unknown = sorted(set(table) - _INTENT_FIELDS)
    if unknown:
        raise r.error(unknown[0], "is not a known field (typo?)")
    intent_id = r.text("id")
    if intent_id not in INTENT_IDS:
        raise r.error("id", f"must be one of {', '.join(INTENT_IDS)}")
    number = r.integer("number")
    if number is None or not 1 <= number <= len(INTENT_IDS):
        raise r.error("number", f"must be 1..{len(INTENT_IDS)}, got {number!r}")
    title = r.text("title")
    if len(title) > _TITLE_MAX:
        raise r.error("title", f"must be at most {_TITLE_MAX} characters, got {len(title)}")
    answer = r.text("answer")
    if _HTML_TAG.search(answer):
        raise r.error("answer", "must be plain text (no HTML tags)")
    actions = r.words("actions", required=True)
    for action in actions:
        faq = _FAQ_ACTION.match(action)
        if faq:
            if faq.group(1) not in known_ids:
                raise r.error("actions", f"links an unknown intent {faq.group(1)!r}")
            if faq.group(1) == intent_id:
                raise r.error("actions", "links the intent to itself")
        elif action not in ACTIONS:
            allowed = ", ".join(sorted(ACTIONS)) + ", faq:<intent_id>"
            raise r.error("actions", f"has unknown action {action!r} (allowed: {allowed})")
    keywords = r.words("keywords")
    hints = r.words("hints")
    anchors = r.words("anchors")
    patterns = _check_patterns(r, "patterns")
    decisive = _check_patterns(r, "decisive")
    if not keywords and not hints and not anchors and not patterns:
        raise r.error("keywords", "is missing (an intent needs keywords or hints to be matched)")
    days = r.integer("elapsed_days_over", required=False)
    if days is not None and days < 1:
        raise r.error("elapsed_days_over", f"must be positive, got {days}")
    return Intent(
        id=intent_id,
        number=number,
        question=r.text("question"),
        title=title,
        answer=answer,
        actions=actions,
        keywords=keywords,
        hints=hints,
        exclude=r.words("exclude"),
        phrasings=r.words("phrasings"),
        weight=r.number("weight", 1.0),
        elapsed_days_over=days,
        anchors=anchors,
        patterns=patterns,
        decisive=decisive,
    )


def _parse_act(source: str, position: int, table: Any) -> Act:
    """Validate one [[act]] table."""
    if not isinstance(table, dict):
        raise KnowledgeBaseError(f"{source}: act #{position} must be a table")
    raw_id = table.get("id")
    entry = f"act '{raw_id}'" if isinstance(raw_id, str) and raw_id else f"act #{position}"
    r = _Reader(source, entry, table)
    unknown = sorted(set(table) - _ACT_FIELDS)
    if unknown:
        raise r.error(unknown[0], "is not a known field (typo?)")
    act_id = r.text("id")
    if act_id not in ACT_IDS:
        raise r.error("id", f"must be one of {', '.join(ACT_IDS)}")
    patterns = _check_patterns(r, "patterns")
    if not patterns:
        raise r.error("patterns", "is missing (an act needs patterns to be recognised)")
    return Act(
        id=act_id,
        title=r.text("title"),
        patterns=patterns,
        exclude=_check_patterns(r, "exclude"),
        phrasings=r.words("phrasings"),
    )


def parse_acts(data: Mapping[str, Any], source: str = "acts.toml") -> tuple[Act, ...]:
    """Validate parsed acts TOML; acts keep the file's order, which is their priority."""
    raw = data.get("act")
    if not isinstance(raw, list) or not raw:
        raise KnowledgeBaseError(f"{source}: no [[act]] entries found")
    acts = [_parse_act(source, pos, table) for pos, table in enumerate(raw, start=1)]
    seen: set[str] = set()
    for act in acts:
        if act.id in seen:
            raise KnowledgeBaseError(f"{source}: act '{act.id}': field 'id' is duplicated")
        seen.add(act.id)
    return tuple(acts)


def _parse_mapping(source: str, name: str, value: Any) -> Mapping[str, str]:
    """Validate a [synonyms]-style table of text -> text."""
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, dict):
        raise KnowledgeBaseError(
            f"{source}: [{name}] must be a table of \"variant\" = \"canonical\""
        )
    for key, val in value.items():
        if not isinstance(val, str) or not key.strip():
            raise KnowledgeBaseError(f"{source}: [{name}]: entry {key!r} must map to text")
    return MappingProxyType({k.strip(): v.strip() for k, v in value.items()})


def parse_knowledge_base(data: Mapping[str, Any], source: str = "intents.toml") -> KnowledgeBase:
    """Validate parsed TOML data and build the knowledge base."""
    raw_intents = data.get("intent")
    if not isinstance(raw_intents, list) or not raw_intents:
        raise KnowledgeBaseError(f"{source}: no [[intent]] entries found")
    declared_ids = tuple(
        t["id"] for t in raw_intents if isinstance(t, dict) and isinstance(t.get("id"), str)
    )
    # A duplicated id is the root cause of any later mismatch, so report it first.
    for pos, intent_id in enumerate(declared_ids):
        if intent_id in declared_ids[:pos]:
            raise KnowledgeBaseError(f"{source}: intent '{intent_id}': field 'id' is duplicated")
    intents = [
        _parse_intent(source, pos, table, declared_ids)
        for pos, table in enumerate(raw_intents, start=1)
    ]
    missing = [i for i in INTENT_IDS if i not in declared_ids]
    if missing:
        raise KnowledgeBaseError(f"{source}: intent '{missing[0]}' is missing")
    for intent in intents:
        expected = INTENT_IDS.index(intent.id) + 1
        if intent.number != expected:
            raise KnowledgeBaseError(
                f"{source}: intent '{intent.id}': field 'number' must be {expected}, "
                f"got {intent.number}"
            )
    matching_table = data.get("matching", {})
    if not isinstance(matching_table, dict):
        raise KnowledgeBaseError(f"{source}: [matching] must be a table")
    m = _Reader(source, "[matching]", matching_table)
    for word in m.words("soft_veto"):
        if word not in m.words("veto"):
            raise m.error("soft_veto", f"lists {word!r}, which is not in 'veto'")
    matching = MatchingConfig(
        topic=m.words("topic", required=True),
        veto=m.words("veto"),
        soft_veto=m.words("soft_veto"),
        ambiguous=m.words("ambiguous"),
        protected=m.words("protected"),
        product=m.words("product"),
        follow_up=m.words("follow_up"),
        neutral=_check_patterns(m, "neutral"),
    )
    return KnowledgeBase(
        intents=tuple(sorted(intents, key=lambda i: i.number)),
        matching=matching,
        synonyms=_parse_mapping(source, "synonyms", data.get("synonyms")),
        chosung=_parse_mapping(source, "chosung", data.get("chosung")),
        source=source,
    )


def load_knowledge_base(path: str | Path | None = None) -> KnowledgeBase:
    """Load and validate the knowledge base (the packaged one when *path* is None).

    Conversation acts are read from ``acts.toml`` beside the intents file when it exists.
    """
    if path is None:
        return _load_default()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _load_default() -> KnowledgeBase:
    """The packaged knowledge base, parsed once (it is immutable)."""
    return _load(_default_path())


def _load(path: Path) -> KnowledgeBase:
    """Read, parse and validate the intents file and, when present, the acts file beside it."""
    kb = parse_knowledge_base(_read_toml(path), path.name)
    acts_path = path.with_name("acts.toml")
    if acts_path.exists():
        kb = replace(kb, acts=parse_acts(_read_toml(acts_path), acts_path.name))
    return kb


def _read_toml(path: Path) -> dict[str, Any]:
    """Read one TOML file; errors name the file."""
    source = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KnowledgeBaseError(f"{source}: cannot read the file ({exc.strerror})") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise KnowledgeBaseError(f"{source}: not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise KnowledgeBaseError(f"{source}: not valid TOML ({exc})") from exc
    return data
