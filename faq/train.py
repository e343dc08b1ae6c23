"""Offline training of the second matching signal (faq/classifier.py).

``helpdesk faq train`` (or ``python -m faq.train``) reads the training corpus
(faq/data/training/*.tsv: messages by writers who never saw the knowledge base or any evaluation
set) and the knowledge base's own phrasings, fits a multinomial logistic regression with
scikit-learn and writes faq/data/classifier.json. scikit-learn is needed here only (a dev
dependency); the bot reads the JSON with pure Python.

The JSON records ``inputs_digest``, a hash of everything the weights depend on (the training
files, the phrasings, the normaliser's vocabulary, the feature version and the settings below);
tests/unit/test_faq_classifier.py recomputes it, so a training file, a phrasing or the features
cannot change without the weights being retrained (``helpdesk faq train``).

Evaluation sets (tests/data/) are never read here.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from array import array
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from faq.classifier import CLASSES, FEATURE_VERSION, default_model_path, features
from faq.dates import read_elapsed
from faq.evaluate import read_labelled_tsv, read_today
from faq.kb import KnowledgeBase, load_knowledge_base
from faq.normalize import Normalizer

__all__ = ["SETTINGS", "fit", "inputs_digest", "main", "train", "training_rows"]

TRAINING_DIR = Path(__file__).resolve().parent / "data" / "training"
# The corpus was written against this date ("지난주 화요일(24일)에" is 2026-11-24), like the
# development sets; a file's own '# today:' header overrides it.
CORPUS_TODAY = date(2026, 12, 1)
# Chosen by 5-fold cross-validation on the training corpus (C in 3, 10, 30: 10 was best). The
# first fit keeps the features some class weighs at least `select`; a second fit on those only
# gives a model a few times smaller (fast to load) with calibrated probabilities.
# Weights are shipped to 3 decimals and those under `floor` as 0 (the file loads in ~30 ms).
SETTINGS: dict[str, object] = {
    "C": 10.0, "max_iter": 3000, "select": 0.05, "round": 3, "floor": 0.01,
}


def _training_files(directory: Path = TRAINING_DIR) -> list[Path]:
    return sorted(directory.glob("*.tsv"))


def training_rows(
    kb: KnowledgeBase | None = None, directory: Path = TRAINING_DIR
) -> list[tuple[str, str, date | None]]:
    """(text, label, today) for every training message: the corpus, then the KB's phrasings."""
    kb = kb or load_knowledge_base()
    rows: list[tuple[str, str, date | None]] = []
    for path in _training_files(directory):
        today = read_today(path) or CORPUS_TODAY
        rows += [(text, label, today) for text, label in read_labelled_tsv(path, kb.ids)]
    for intent in kb.intents:
        rows += [(p, intent.id, None) for p in (intent.question, *intent.phrasings)]
    for act in kb.acts:
        rows += [(p, act.id, None) for p in act.phrasings]
    return rows


def inputs_digest(kb: KnowledgeBase | None = None, directory: Path = TRAINING_DIR) -> str:
    """SHA-256 of what the weights are trained from: each message's label and its features.

    Hashing the features (not only the texts) makes the digest change with the normaliser,
    the date reader or the feature code too, whichever of them changes.
    """
    kb = kb or load_knowledge_base()
    normalizer = Normalizer(kb.synonyms, kb.chosung)
    h = hashlib.sha256()
    h.update(f"features v{FEATURE_VERSION}\n".encode())
    h.update(json.dumps(SETTINGS, sort_keys=True).encode())
    for text, label, today in training_rows(kb, directory):
        feats = " ".join(sorted(set(featurize(text, today, normalizer))))
        h.update(f"{label}\t{feats}\n".encode())
    return h.hexdigest()


def featurize(
    text: str, today: date | None, normalizer: Normalizer, limit: int = 7
) -> list[str]:
    """The model's features for one message, computed as the matcher computes them."""
    cut = text[:1000]
    normalized = normalizer.normalize(cut)
    return features(normalized, read_elapsed(cut, today, limit, normalized=normalized))


def train(kb: KnowledgeBase | None = None, directory: Path = TRAINING_DIR) -> dict[str, object]:
    """Fit the model on the training data and return the JSON document to ship."""
    kb = kb or load_knowledge_base()
    document = fit(training_rows(kb, directory), kb)
    document["inputs_digest"] = inputs_digest(kb, directory)
    return document


def fit(
    rows: Sequence[tuple[str, str, date | None]], kb: KnowledgeBase | None = None
) -> dict[str, object]:
    """Fit the model on (text, label, today) rows (also used for cross-validation)."""
    try:
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SystemExit(
            "training needs scikit-learn (a dev dependency): pip install -e '.[dev]'"
        ) from exc
    import sklearn

    kb = kb or load_knowledge_base()
    normalizer = Normalizer(kb.synonyms, kb.chosung)
    x = [dict.fromkeys(featurize(t, today, normalizer), 1) for t, _, today in rows]
    y = [label for _, label, _ in rows]

    def fit_once(rows: list[dict[str, int]]) -> tuple[DictVectorizer, LogisticRegression]:
        vectorizer = DictVectorizer()
        matrix = vectorizer.fit_transform(rows)
        model = LogisticRegression(C=float(SETTINGS["C"]), max_iter=int(SETTINGS["max_iter"]))
        return vectorizer, model.fit(matrix, y)

    vectorizer, model = fit_once(x)
    names = vectorizer.get_feature_names_out()
    largest = abs(model.coef_).max(axis=0)
    select = float(SETTINGS["select"])  # type: ignore[arg-type]
    strong = {str(n) for n, w in zip(names, largest, strict=True) if w >= select}
    vectorizer, model = fit_once([{f: 1 for f in row if f in strong} for row in x])
    order = [list(model.classes_).index(c) for c in CLASSES]
    digits = int(SETTINGS["round"])  # type: ignore[call-overload]
    floor = float(SETTINGS["floor"])  # type: ignore[arg-type]
    names = vectorizer.get_feature_names_out()
    kept: list[str] = []
    weights: list[list[float]] = []
    for j, name in enumerate(names):
        row = [
            round(w, digits) if abs(w) >= floor else 0
            for w in (float(model.coef_[k, j]) for k in order)
        ]
        if any(row):
            kept.append(str(name))
            weights.append(row)
    return {
        "format": 1,
        "feature_version": FEATURE_VERSION,
        "trained_on": len(rows),
        "sklearn": sklearn.__version__,
        "settings": SETTINGS,
        "classes": list(CLASSES),
        "bias": [round(float(model.intercept_[k]), digits) for k in order],
        "features": kept,
        "weights": weights,
    }


def write(document: dict[str, object], path: Path | None = None) -> Path:
    """Write the model JSON: one feature per line (diffs show what the model reads), the
    weights packed as little-endian float32 in base64 (see Classifier.from_json)."""
    path = path or default_model_path()
    head = {k: v for k, v in document.items() if k not in ("features", "weights")}
    head["format"] = 2
    feats = document["features"]
    weights = document["weights"]
    assert isinstance(feats, list) and isinstance(weights, list)
    values = array("f", (float(w) for row in weights for w in row))
    if sys.byteorder == "big":
        values.byteswap()
    lines = [json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [']
    lines += [
        json.dumps(f, ensure_ascii=False) + ("," if i < len(feats) - 1 else "")
        for i, f in enumerate(feats)
    ]
    lines.append('], "weights_f32":')
    lines.append(json.dumps(base64.b64encode(values.tobytes()).decode("ascii")))
    lines.append("}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Train and write the model, or with --check say whether the shipped one is current."""
    parser = argparse.ArgumentParser(description="Train the FAQ classifier (second signal).")
    parser.add_argument("--check", action="store_true", help="only check the shipped model")
    parser.add_argument("--out", type=Path, help="where to write (default: faq/data/)")
    args = parser.parse_args(argv)
    return run(check=args.check, out=args.out)


def run(*, check: bool = False, out: Path | None = None) -> int:
    """Shared by `helpdesk faq train` and `python -m faq.train`."""
    path = out or default_model_path()
    if check:
        digest = inputs_digest()
        try:
            shipped = json.loads(path.read_text(encoding="utf-8")).get("inputs_digest")
        except (OSError, ValueError):
            shipped = None
        if shipped == digest:
            print(f"{path.name} is up to date with the training data ({digest[:12]})")
            return 0
        print(f"{path.name} is stale: retrain with `helpdesk faq train`", file=sys.stderr)
        return 1
    document = train()
    write(document, path)
    print(
        f"wrote {path} ({len(document['features'])} features, "  # type: ignore[arg-type]
        f"{document['trained_on']} messages, inputs {str(document['inputs_digest'])[:12]})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
