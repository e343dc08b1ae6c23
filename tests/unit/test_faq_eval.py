"""Evaluation: reading labelled files, the figures, the report and the JSON the CLI prints."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from faq.evaluate import (
    baseline_predict,
    evaluate,
    format_report,
    match_result_json,
    read_labelled_tsv,
    read_today,
    run_eval,
)
from faq.kb import load_knowledge_base
from faq.matcher import Matcher

DEV_SET = Path(__file__).resolve().parents[1] / "data" / "faq_dev.tsv"


@dataclass(frozen=True)
class FakePrediction:
    decision: str
    intent: str | None
    candidates: tuple[str, ...]


def test_reads_rows_skipping_blank_and_comment_lines(tmp_path: Path) -> None:
    path = tmp_path / "set.tsv"
    path.write_text("# comment\n환불 어떻게 해요\thow_to_cancel\n\n안녕\tnone\n", encoding="utf-8")
    assert read_labelled_tsv(path) == [("환불 어떻게 해요", "how_to_cancel"), ("안녕", "none")]


def test_a_line_without_a_tab_is_reported_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "set.tsv"
    path.write_text("환불\thow_to_cancel\n탭이 없는 줄\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2: expected 2 tab-separated columns"):
        read_labelled_tsv(path)


def test_an_unknown_intent_id_is_reported_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "set.tsv"
    path.write_text("환불\thow_to_cancel\n안녕\tnone\n도메인\tdomain_refund\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 3: unknown intent id 'domain_refund'"):
        read_labelled_tsv(path)


def test_figures_count_right_wrong_clarify_and_fallback() -> None:
    answers = {
        "q1": FakePrediction("answer", "how_to_cancel", ("how_to_cancel",)),
        "q2": FakePrediction("answer", "past_deadline", ("past_deadline",)),  # wrong
        "q3": FakePrediction("clarify", None, ("mycash_refund", "how_to_cancel")),
        "q4": FakePrediction("fallback", None, ()),
        "q5": FakePrediction("answer", "not_in_list", ("not_in_list",)),  # out of scope answered
    }
    rows = [
        ("q1", "how_to_cancel"),
        ("q2", "how_to_cancel"),
        ("q3", "mycash_refund"),
        ("q4", "none"),
        ("q5", "none"),
    ]
    report = evaluate(answers.__getitem__, rows)
    assert report.in_scope_accuracy == pytest.approx(1 / 3)
    assert report.wrong_rate == pytest.approx(2 / 5)
    assert report.oos_fallback == pytest.approx(1 / 2)
    assert report.clarify_rate == pytest.approx(1 / 5)
    assert report.clarify_hit_rate == 1.0
    assert report.accuracy_for("how_to_cancel") == (1, 2)
    assert not report.meets_targets()


def test_baseline_answers_a_seed_question_with_its_intent_and_drops_noise() -> None:
    kb = load_knowledge_base()
    seed = kb.get("bank_transfer_refund").question
    assert baseline_predict(seed).intent == "bank_transfer_refund"
    assert baseline_predict("ㅋ").decision == "fallback"


def test_report_shows_matcher_beside_baseline_with_errors_listed() -> None:
    rows = [
        ("마이캐쉬로 결제했는데 환불은 어떻게 되나요?", "mycash_refund"),
        ("2주 전에 신청한 알림톡 취소", "past_deadline"),
        ("도메인 환불", "none"),
        ("환불", "how_to_cancel"),
    ]
    matcher = Matcher(load_knowledge_base())
    text = format_report(evaluate(matcher.match, rows), evaluate(baseline_predict, rows))
    for heading in (
        "matcher", "baseline", "in-scope answered right", "confidently wrong",
        "out-of-scope fell back", "clarify", "Accuracy per intent", "Confusion (matcher",
        "Confusion (baseline", "Wrong answers (matcher): 0", "Out-of-scope results",
    ):
        assert heading in text
    # The bare "환불" was clarified, which the report lists as not answered.
    assert "환불  -> clarify" in text


def test_json_for_the_cli_has_the_documented_fields() -> None:
    result = Matcher(load_knowledge_base()).match("환불")
    obj = match_result_json(result)
    assert obj == {
        "text": "환불",
        "normalized": "환불",
        "decision": "clarify",
        "intent": None,
        "candidates": list(result.candidates),
        "score": result.score,
        "act": None,
    }
    assert json.loads(json.dumps(obj, ensure_ascii=False)) == obj


@pytest.mark.skipif(not DEV_SET.exists(), reason="development set not present")
def test_matcher_meets_the_targets_on_the_development_set_and_beats_the_baseline() -> None:
    kb = load_knowledge_base()
    rows = read_labelled_tsv(DEV_SET)
    report = evaluate(Matcher(kb).match, rows)
    baseline = evaluate(baseline_predict, rows)
    assert report.meets_targets()
    assert report.in_scope_accuracy > baseline.in_scope_accuracy
    assert report.wrong_rate < baseline.wrong_rate
    assert "baseline" in run_eval(DEV_SET)


def test_the_today_header_is_read_and_passed_to_the_matcher(tmp_path: Path) -> None:
    path = tmp_path / "set.tsv"
    path.write_text(
        "# today: 2026-12-01\n11월 3일에 신청한 알림톡 취소하고 싶어요\tpast_deadline\n",
        encoding="utf-8",
    )
    assert read_today(path) == date(2026, 12, 1)
    assert "in-scope answered right               100.0%" in run_eval(path)
    # Read against a day inside the 7 days, the same question is how-to-cancel.
    path.write_text(
        "# today: 2026-11-05\n11월 3일에 신청한 알림톡 취소하고 싶어요\thow_to_cancel\n",
        encoding="utf-8",
    )
    assert "in-scope answered right               100.0%" in run_eval(path)


def test_a_file_without_the_header_has_no_today(tmp_path: Path) -> None:
    path = tmp_path / "set.tsv"
    path.write_text("# a comment\n환불\thow_to_cancel\n", encoding="utf-8")
    assert read_today(path) is None


def test_act_rows_are_scored_against_the_act_and_shown_like_intents() -> None:
    rows = [
        ("제 환불 신청 어떻게 됐나요?", "request_status"),
        ("상담원 연결해 주세요", "human_agent"),
        ("환불 신청 철회할게요", "withdraw_request"),
        ("알림톡 취소하고 싶어요", "how_to_cancel"),
        ("도메인 환불", "none"),
    ]
    matcher = Matcher(load_knowledge_base())
    report = evaluate(matcher.match, rows)
    assert report.act_accuracy == 1.0
    assert report.in_scope_accuracy == 1.0
    assert len(report.act_rows) == 3 and len(report.in_scope) == 1
    text = format_report(report, evaluate(baseline_predict, rows))
    assert "conversation acts recognised" in text
    assert "request_status" in text and "Acts (matcher" in text


def test_answering_how_to_cancel_to_a_filed_request_counts_as_wrong() -> None:
    fake = FakePrediction("answer", "how_to_cancel", ("how_to_cancel",))
    report = evaluate(lambda _: fake, [("제 신청 어떻게 됐어요", "request_status")])
    assert report.wrong_rate == 1.0
