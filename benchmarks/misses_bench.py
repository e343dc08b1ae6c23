"""Time `helpdesk faq misses` grouping on a provider-scale log of unanswered questions.

    python benchmarks/misses_bench.py [--misses 100000] [--compare 3000]

The misses are what a busy helpdesk's fallbacks look like: about sixty topics the knowledge
base does not cover (domains, SSL, tax invoices, sender numbers…), asked in many phrasings,
with spacing dropped, one-syllable typos, greetings and filler around them, popular topics far
more often than others (Zipf); a long tail of one-off questions of 3-7 distinct words drawn
(Zipf) from common helpdesk words and a few thousand made-up ones; and a few texts of only
punctuation, digits or emoji. Texts are normalised as the engine logs
them (`faq.normalize`), before the clock starts. `--compare N` also groups the first N misses
with the previous every-variant algorithm and reports how far the groups differ.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rapidfuzz import fuzz

from bot.analytics import SHORT, SIMILAR, group_misses
from faq.normalize import normalize

TOPICS = [
    "도메인 연장",
    "도메인 이전",
    "네임서버 변경",
    "SSL 인증서 설치",
    "SSL 인증서 갱신",
    "세금계산서 발행",
    "세금계산서 재발행",
    "현금영수증 발급",
    "카드 영수증 출력",
    "메일 계정 추가",
    "메일 용량 늘리기",
    "웹호스팅 용량 추가",
    "FTP 접속",
    "DB 비밀번호 변경",
    "발신번호 등록",
    "발신번호 인증",
    "알림톡 템플릿 검수",
    "알림톡 템플릿 등록",
    "카카오 채널 연동",
    "친구톡 발송",
    "포인트 충전",
    "충전 금액 확인",
    "회원가입",
    "아이디 찾기",
    "비밀번호 찾기",
    "2단계 인증 해제",
    "담당자 변경",
    "명의 변경",
    "사업자 정보 변경",
    "서버 점검 시간",
    "API 키 발급",
    "API 연동 오류",
    "발송 실패 원인",
    "수신거부 번호 등록",
    "080 수신거부",
    "스팸 처리",
    "대량 발송",
    "예약 발송 취소",
    "발송 단가",
    "해외 발송",
    "발송 결과 조회",
    "엑셀 주소록 업로드",
    "주소록 삭제",
    "전용 IP 신청",
    "서버 재부팅",
    "백업 복구",
    "워드프레스 설치",
    "PHP 버전 변경",
    "트래픽 초과",
    "SMS 잔액 이월",
    "LMS 장문 발송",
    "MMS 이미지 크기",
    "광고 문자 규정",
    "야간 발송 제한",
    "특수문자 깨짐",
    "이모지 발송",
    "웹훅 설정",
    "IP 화이트리스트 등록",
    "재발송 설정",
    "발신 프로필 등록",
]
FRAMES = [
    "{t}",
    "{t} 어떻게 해요",
    "{t} 방법",
    "{t} 하는 법 알려주세요",
    "{t} 문의",
    "{t} 안 돼요",
    "{t} 가능한가요",
    "{t}?",
    "{t} 좀 도와주세요",
    "{t} 하려면 어떻게 하나요",
    "{t} 언제 되나요",
    "{t} 어디서 해요",
    "{t} 관련해서 문의드려요",
    "{t} 하고 싶은데요",
    "{t} 어떻게 하는 거죠",
]
FILLER = ["안녕하세요", "저기요", "혹시", "급해요", "빨리", "문의드립니다", "궁금한데요"]
# The long tail's words: common helpdesk words, then made-up ones for a large vocabulary used
# by rank (Zipf), as one-off questions are.
COMMON_WORDS = (
    "서비스 계정 관리 화면 메뉴 설정 변경 오류 확인 요청 결제 고객 센터 상담 연결 번호 주소 "
    "이메일 전화 시간 오늘 내일 어제 금액 요금 할인 쿠폰 이벤트 모바일 앱 로그인 페이지 접속 "
    "에러 코드 알림 계약 기간 자동 등록 삭제 수정 조회 목록 내역 파일 첨부 용량 추가 신청 승인"
).split()
# Syllables of made-up words: every initial and vowel, with no final or a common one
# (ㄴ ㄹ ㅁ ㅇ), as real Korean words spread over a couple of thousand syllables.
SYLLABLES = [
    chr(0xAC00 + (initial * 21 + vowel) * 28 + final)
    for initial in range(19)
    for vowel in range(21)
    for final in (0, 4, 8, 16, 21)
]
NOT_WORDS = ["???", "!!", "ㅎ?", "12345", "010-1234-5678", "😭😭", "👍", "...", "1", "ㅇㅇ?"]
TYPO = {"요": "여", "어": "아", "해": "헤", "세": "새", "도": "두", "변": "벼", "록": "룩"}


def _vary(text: str, rng: random.Random) -> str:
    """A customer's rendering: dropped spaces, a typo, filler around it."""
    if rng.random() < 0.35:
        text = text.replace(" ", "", rng.randint(1, 3))
    if rng.random() < 0.2:
        spots = [i for i, ch in enumerate(text) if ch in TYPO]
        if spots:
            i = rng.choice(spots)
            text = text[:i] + TYPO[text[i]] + text[i + 1 :]
    if rng.random() < 0.15:
        text = f"{rng.choice(FILLER)} {text}"
    return text


def miss_texts(n: int, seed: int = 7) -> list[str]:
    """`n` unanswered questions as customers typed them."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(TOPICS))]  # Zipf: a few topics dominate
    made_up = {"".join(rng.choices(SYLLABLES, k=rng.randint(2, 3))) for _ in range(3000)}
    vocabulary = COMMON_WORDS + sorted(made_up)
    word_weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    texts = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.02:
            texts.append(rng.choice(NOT_WORDS))
        elif roll < 0.62:
            topic = rng.choices(TOPICS, weights)[0]
            texts.append(_vary(rng.choice(FRAMES).format(t=topic), rng))
        else:
            wanted = rng.randint(3, 7)
            words = []
            while len(words) < wanted:  # distinct words, as people rarely repeat one
                word = rng.choices(vocabulary, word_weights)[0]
                if word not in words:
                    words.append(word)
            texts.append(" ".join(words) + rng.choice(["", "?", " 문의", " 어떻게 해요"]))
    return texts


def events(texts: list[str]) -> list[dict[str, Any]]:
    """Fallback events as the engine logs them (text and its normalised form)."""
    cache: dict[str, str] = {}
    return [
        {
            "kind": "fallback",
            "text": t,
            "normalized": cache.setdefault(t, normalize(t)),
            "helpful": None,
            "intent": None,
        }
        for t in texts
    ]


def old_similar(a: str, b: str) -> bool:
    """The previous similarity: as now, plus token_set_ratio's comparison of differing words."""
    sa, sb = "".join(a.split()), "".join(b.split())
    if min(len(sa), len(sb)) < SHORT:
        return fuzz.ratio(sa, sb) >= SIMILAR
    return max(fuzz.partial_ratio(sa, sb), fuzz.token_set_ratio(a, b)) >= SIMILAR


def old_group_misses(evs: list[dict[str, Any]]) -> list[list[str]]:
    """The previous grouping: every question against every variant of every group."""
    misses: Counter[str] = Counter()
    for e in evs:
        q = (e["normalized"] or e["text"] or "").strip()
        if q:
            misses[q] += 1
    groups: list[list[str]] = []
    for q, _ in misses.most_common():
        for g in groups:
            if any(old_similar(q, v) for v in g):
                g.append(q)
                break
        else:
            groups.append([q])
    return groups


def main() -> None:
    """Generate the misses, time the grouping, optionally compare with the old algorithm."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", type=int, default=100_000)
    parser.add_argument("--compare", type=int, default=0, metavar="N")
    args = parser.parse_args()
    evs = events(miss_texts(args.misses))
    distinct = len({e["normalized"] or e["text"] for e in evs})
    started, cpu = time.perf_counter(), time.process_time()
    groups = group_misses(evs)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    grouped = sum(g.count for g in groups)
    print(
        f"misses: {len(evs):,} ({distinct:,} distinct)  groups: {len(groups):,}  "
        f"grouped: {grouped:,}  wall: {wall:.2f} s  cpu: {cpu:.2f} s"
    )
    for g in groups[:5]:
        print(f"  {g.count:>6}  {g.example}  ({len(g.variants)} wordings)")
    if args.compare:
        sample = evs[: args.compare]
        started = time.perf_counter()
        old = old_group_misses(sample)
        old_wall = time.perf_counter() - started
        started = time.perf_counter()
        new = group_misses(sample)
        new_wall = time.perf_counter() - started
        old_of = {q: i for i, g in enumerate(old) for q in g}
        same = sum(
            1
            for g in new
            for q in g.variants
            if len({old_of.get(v) for v in g.variants}) == 1 and q in old_of
        )
        print(
            f"first {args.compare:,} misses: old {len(old):,} groups in {old_wall:.2f} s, "
            f"new {len(new):,} groups in {new_wall:.2f} s; "
            f"{same:,} of {sum(len(g.variants) for g in new):,} wordings sit in a new group "
            "that is one old group"
        )


if __name__ == "__main__":
    main()
