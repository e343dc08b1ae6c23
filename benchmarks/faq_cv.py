"""Cross-validated figures of the whole matcher (rules + model) on the training corpus.

The rules were never written from the training corpus (faq/data/training/corpus_1.tsv and
corpus_2.tsv), so running them on it is an unseen-message test; the model is trained on four
fifths of the corpus (plus the knowledge base's phrasings and the engineer's own phrasings) and
run on the fifth it did not see, five times. This is the estimate the ensemble's thresholds
were chosen on; the development sets then check it. Needs scikit-learn (a dev dependency).

With --by-writer each scored corpus is instead held out whole and the model trained on all the
others: a new writer's style, which is what an unseen customer is.

Usage: python benchmarks/faq_cv.py [--rules-only] [--folds 5] [--by-writer] [--misses]
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from faq.classifier import Classifier  # noqa: E402
from faq.evaluate import EvalReport, EvalRow, read_labelled_tsv, read_today  # noqa: E402
from faq.kb import load_knowledge_base  # noqa: E402
from faq.matcher import Matcher  # noqa: E402
from faq.train import CORPUS_TODAY, TRAINING_DIR, fit, training_rows  # noqa: E402

# The corpora written by writers who never saw the knowledge base: these are scored. Other
# training files (the engineer's own phrasings) and the KB's phrasings are only trained on.
SCORED = (
    "corpus_1.tsv",
    "corpus_2.tsv",
    "corpus_5_long.tsv",
    "corpus_6_mobile.tsv",
    "corpus_7_dates.tsv",
    "corpus_8_boundaries.tsv",
    "corpus_9_personas.tsv",
    "corpus_10_tester.tsv",
    "corpus_11_realchat.tsv",
    "corpus_12_hard.tsv",
    "corpus_13_implied.tsv",
    "corpus_14_tester2.tsv",
    "corpus_15_situations.tsv",
    "corpus_16_offtopic.tsv",
    "corpus_17_stories.tsv",
    "corpus_18_terse.tsv",
    "corpus_19_tester3.tsv",
    "corpus_20_formal.tsv",
    "corpus_21_dictated.tsv",
    "corpus_22_worried.tsv",
    "corpus_23_boundaries2.tsv",
    "corpus_24_acts.tsv",
    "corpus_25_tester4.tsv",
    "corpus_26_smallbiz.tsv",
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--rules-only", action="store_true", help="score the rules alone")
    parser.add_argument(
        "--by-writer", action="store_true", help="hold out one writer's corpus at a time"
    )
    parser.add_argument("--misses", action="store_true", help="print what was not right")
    args = parser.parse_args(argv)

    kb = load_knowledge_base()
    scored: list[tuple[str, str, date | None]] = []
    writer: list[int] = []
    for n, name in enumerate(SCORED):
        path = TRAINING_DIR / name
        today = read_today(path) or CORPUS_TODAY
        rows_of_file = [(t, label, today) for t, label in read_labelled_tsv(path, kb.ids)]
        scored += rows_of_file
        writer += [n] * len(rows_of_file)
    keys = {(t, label) for t, label, _ in scored}
    always = [r for r in training_rows(kb) if (r[0], r[1]) not in keys]

    # Stratified folds: each label's messages dealt round-robin after a fixed shuffle.
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, (_, label, _) in enumerate(scored):
        by_label[label].append(i)
    fold_of = [0] * len(scored)
    rng = random.Random(0)
    for indices in by_label.values():
        rng.shuffle(indices)
        for n, i in enumerate(indices):
            fold_of[i] = n % args.folds
    if args.by_writer:
        fold_of, args.folds = writer, len(SCORED)

    rows: list[EvalRow | None] = [None] * len(scored)
    for fold in range(args.folds if not args.rules_only else 1):
        if args.rules_only:
            matcher = Matcher(kb, classifier=False)
            test = range(len(scored))
        else:
            train = [r for i, r in enumerate(scored) if fold_of[i] != fold] + always
            matcher = Matcher(kb, classifier=Classifier.from_json(fit(train, kb)))
            test = [i for i in range(len(scored)) if fold_of[i] == fold]
        for i in test:
            text, label, today = scored[i]
            r = matcher.match(text, today=today)
            rows[i] = EvalRow(text, label, r.decision, r.intent, tuple(r.candidates), r.act)
    report = EvalReport("cv", tuple(r for r in rows if r is not None))
    what = (
        "rules alone"
        if args.rules_only
        else "rules + model, each writer held out"
        if args.by_writer
        else f"rules + model, {args.folds}-fold"
    )
    print(f"training corpus ({len(scored)} messages, {what}):")
    print(f"  in-scope answered right  {report.in_scope_accuracy * 100:5.1f}%")
    print(f"  confidently wrong        {report.wrong_rate * 100:5.1f}%")
    print(f"  out-of-scope fell back   {report.oos_fallback * 100:5.1f}%")
    print(f"  acts recognised          {report.act_accuracy * 100:5.1f}%")
    print(f"  clarify                  {report.clarify_rate * 100:5.1f}%")
    for n, name in enumerate(SCORED):
        part = EvalReport(name, tuple(r for i, r in enumerate(rows) if r and writer[i] == n))
        print(
            f"    {name:24} {part.in_scope_accuracy * 100:5.1f} / {part.wrong_rate * 100:4.1f}"
            f" / {part.oos_fallback * 100:5.1f} / {part.act_accuracy * 100:5.1f} %"
        )
    if args.misses:
        for r in report.rows:
            if not r.correct:
                tag = "WRONG" if r.confidently_wrong else "miss "
                got = r.intent if r.decision == "answer" else r.decision
                print(f"  {tag} {r.expected:21} -> {got} act={r.act}  {r.text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
