"""The second matching signal: shipped weights, pure-Python inference, and how it combines."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from faq.classifier import CLASSES, FEATURE_VERSION, load_classifier
from faq.kb import load_knowledge_base
from faq.matcher import Matcher
from faq.train import inputs_digest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "faq" / "data" / "classifier.json"


def test_shipped_model_was_trained_from_the_current_training_data() -> None:
    # A training file, a KB phrasing, the normaliser's vocabulary or the features changed
    # without retraining: run `helpdesk faq train` and commit faq/data/classifier.json.
    shipped = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert shipped["feature_version"] == FEATURE_VERSION
    assert shipped["inputs_digest"] == inputs_digest(), "retrain: helpdesk faq train"
    assert shipped["classes"] == list(CLASSES)


def test_runtime_needs_no_machine_learning_library() -> None:
    for module in ("classifier.py", "matcher.py", "kb.py", "normalize.py", "dates.py"):
        tree = ast.parse((ROOT / "faq" / module).read_text(encoding="utf-8"))
        imported: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add((node.module or "").split(".")[0])
        assert not imported & {"sklearn", "scipy", "numpy", "joblib"}, module


def test_the_packed_weights_load_as_the_fitted_ones(tmp_path: Path) -> None:
    """The shipped file packs the weights as float32: the same predictions as the fit's lists,
    and a truncated blob is refused rather than read shifted."""
    from faq.classifier import Classifier
    from faq.train import write

    document = {
        "classes": ["a", "b", "c"],
        "bias": [0.1, -0.2, 0.0],
        "features": ["가나", "w:환불", "§over"],
        "weights": [[1.5, -0.25, 0.0], [0.0, 2.125, -1.0], [-3.5, 0.0, 0.75]],
    }
    path = write(dict(document), tmp_path / "model.json")
    packed = json.loads(path.read_text(encoding="utf-8"))
    assert "weights" not in packed and packed["format"] == 2
    fitted, shipped = Classifier.from_json(document), Classifier.from_json(packed)
    for feats in (["가나"], ["w:환불", "§over"], ["없는 특징"]):
        assert shipped.predict(feats).probs == pytest.approx(fitted.predict(feats).probs)
    packed["weights_f32"] = packed["weights_f32"][:-8]
    with pytest.raises(ValueError):
        Classifier.from_json(packed)


def test_probabilities_sum_to_one_and_rank_the_seed_questions() -> None:
    model = load_classifier()
    assert model is not None
    from faq.normalize import Normalizer

    kb = load_knowledge_base()
    norm = Normalizer(kb.synonyms, kb.chosung)
    from faq.classifier import features

    for intent in kb.intents:
        prediction = model.predict(features(norm.normalize(intent.question)))
        assert sum(prediction.probs.values()) == pytest.approx(1.0)
        assert prediction.top[0] == intent.id


def test_rules_alone_can_still_be_asked_for() -> None:
    kb = load_knowledge_base()
    rules = Matcher(kb, classifier=False)
    assert rules.match("알림톡 취소하고 싶어요").intent == "how_to_cancel"


@pytest.mark.parametrize(
    ("text", "intent_id"),
    [
        # The rules read an evidence word of the general intent; the model reads the whole.
        # (Training-corpus messages: this checks the override path, not generalisation.)
        ("나의 서비스 관리에는 서비스가 있는데 취소 환불 관리에는 없어요", "not_in_list"),
        (
            "문자 보내는 데 쓰라고 돈을 넣어 두었는데 한 통도 안 보냈으면 그 돈은 돌려받나요",
            "sms_charge_refund",
        ),
    ],
)
def test_model_corrects_a_rules_answer_it_is_sure_of(text: str, intent_id: str) -> None:
    rules = Matcher(load_knowledge_base(), classifier=False).match(text)
    both = Matcher(load_knowledge_base()).match(text)
    assert rules.intent != intent_id
    assert (both.decision, both.intent) == ("answer", intent_id)


def test_date_reader_keeps_the_last_word_on_the_deadline() -> None:
    from datetime import date

    m = Matcher(load_knowledge_base())
    today = date(2026, 12, 1)
    assert m.match("11월 27일에 신청한 문자 서비스 지금 취소돼요?", today=today).intent == (
        "how_to_cancel"
    )
    assert m.match("11월 20일에 신청한 문자 서비스 지금 취소돼요?", today=today).intent == (
        "past_deadline"
    )


def test_near_misses_still_fall_back() -> None:
    m = Matcher(load_knowledge_base())
    for text in ("SMS 충전 방법 알려주세요", "도메인 환불은 어떻게 하나요", "회원 탈퇴하려면요"):
        assert m.match(text).decision == "fallback", text


def test_an_exact_anchor_is_not_vetoed_by_an_unsure_model() -> None:
    """"확인증 양식이 따로 있나요": the model, short of concept questions, gives the intent
    little mass; an anchor that can only mean that question keeps its answer unless the model
    is sure it is no refund question at all."""
    from faq.classifier import Prediction
    from faq.matcher import _combine

    unsure = Prediction({"none": 0.85, "bank_transfer_refund": 0.1, "how_to_cancel": 0.05})
    rules = ("answer", ("bank_transfer_refund",), 90.0, None)
    kept = _combine(*rules, unsure, False, anchored=True)
    vetoed = _combine(*rules, unsure, False, anchored=False)
    assert kept[:2] == ("answer", ("bank_transfer_refund",))
    assert vetoed[:2] == ("fallback", ())
    sure = Prediction({"none": 0.95, "bank_transfer_refund": 0.05})
    assert _combine(*rules, sure, False, anchored=True)[:2] == ("fallback", ())
