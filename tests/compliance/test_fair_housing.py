"""The Fair Housing guard against a corpus of realtor messages: no false negatives, few false positives."""

from __future__ import annotations

import fnmatch
import json
import tomllib
from pathlib import Path

import pytest

from fub_mcp.compliance import (
    DISCLAIMER,
    FairHousingBlocked,
    audit_record,
    check_fair_housing,
    fair_housing,
    guard,
)

ROOT = Path(__file__).parents[2]
CORPUS = json.loads((Path(__file__).parent / "corpus.json").read_text(encoding="utf-8"))
RULES = json.loads((ROOT / "fub_mcp" / "compliance" / fair_housing.RULES_FILE).read_text(encoding="utf-8"))
MAX_FALSE_POSITIVE_RATE = 0.05
FALSE_POSITIVES = {t: [f.phrase for f in check_fair_housing(t).findings] for t in CORPUS["clean"]}
FALSE_POSITIVES = {t: phrases for t, phrases in FALSE_POSITIVES.items() if phrases}
RATE = len(FALSE_POSITIVES) / len(CORPUS["clean"])
RATE_ID = f"{len(FALSE_POSITIVES)}-of-{len(CORPUS['clean'])}-clean-flagged-{RATE:.1%}"


def test_the_corpus_is_big_enough_has_both_kinds_and_every_category() -> None:
    assert len(CORPUS["flag"]) >= 40 and len(CORPUS["clean"]) >= 40
    assert len(CORPUS["flag"]) + len(CORPUS["clean"]) >= 80
    assert {category for _, category in CORPUS["flag"]} == fair_housing.CATEGORIES
    texts = [t for t, _ in CORPUS["flag"]] + CORPUS["clean"]
    assert len(texts) == len(set(texts))


@pytest.mark.parametrize(("text", "category"), CORPUS["flag"], ids=[t for t, _ in CORPUS["flag"]])
def test_every_non_compliant_sentence_is_flagged_in_its_category(text: str, category: str) -> None:
    report = check_fair_housing(text)
    assert not report.ok, f"missed: {text!r}"
    assert category in {f.category for f in report.findings}
    for finding in report.findings:
        assert finding.phrase and finding.phrase.lower() in text.lower()
        assert finding.suggestion and finding.explanation and finding.rule
        assert finding.category in fair_housing.CATEGORIES


@pytest.mark.parametrize("rate", [RATE], ids=[RATE_ID])
def test_compliant_sentences_are_rarely_flagged(rate: float) -> None:
    assert rate <= MAX_FALSE_POSITIVE_RATE, f"false positives {RATE_ID}: {FALSE_POSITIVES}"


@pytest.mark.parametrize(
    "text",
    ["walk-in closet", "master bedroom", "family room", "den", "single-family home", "wheelchair ramp"],
)
def test_describing_the_property_passes(text: str) -> None:
    assert check_fair_housing(f"Lovely home with a {text}, near the bus line.").ok


@pytest.mark.parametrize(
    ("fine", "flagged", "category"),
    [
        ("Huge family room off the kitchen.", "Great for families, huge kitchen.", "familial status"),
        ("Church nearby, and a park.", "Near the church, ideal for Christians.", "religion"),
        ("Two blocks from the mosque.", "A Muslim neighborhood.", "religion"),
        ("Wheelchair-accessible entrance.", "No wheelchairs, narrow halls.", "disability"),
        ("Bachelor apartment downtown.", "Ideal for a bachelor, downtown.", "sex"),
        ("55+ community with a pool.", "Adults only, with a pool.", "familial status"),
        ("Close to Chinatown.", "A Chinese neighborhood.", "national origin"),
        ("The street is quiet.", "Perfect for a young couple, no kids.", "familial status"),
        ("No children's toys convey.", "No children, please.", "familial status"),
        ("You'll be happier in the bigger unit.", "You'd be happier in Oakwood.", "steering"),
    ],
)
def test_the_property_or_a_landmark_passes_but_a_preferred_buyer_is_flagged(
    fine: str, flagged: str, category: str
) -> None:
    assert check_fair_housing(fine).ok
    assert category in {f.category for f in check_fair_housing(flagged).findings}


def test_findings_come_in_reading_order_once_each() -> None:
    report = check_fair_housing("No kids. Perfect for a young couple. No kids!")
    assert [f.phrase for f in report.findings] == ["No kids", "Perfect for a young couple"]
    assert report.disclaimer == DISCLAIMER and "not legal advice" in DISCLAIMER
    assert report.text_checked_chars == len("No kids. Perfect for a young couple. No kids!")


def test_plurals_case_curly_quotes_and_odd_spacing_do_not_hide_a_phrase() -> None:
    assert not check_fair_housing("You\u2019d  fit in\nbetter over there.").ok
    assert [f.phrase for f in check_fair_housing("NO TEENAGERS. no teenager.").findings] == ["NO TEENAGERS"]
    assert check_fair_housing("Ideal for empty-nesters").findings[0].category == "familial status"


def test_guard_blocks_unacknowledged_findings_and_says_how_to_proceed() -> None:
    with pytest.raises(FairHousingBlocked) as caught:
        guard("Adults only building.")
    message = str(caught.value)
    assert "Fair Housing" in message and "acknowledge_fair_housing=true" in message and "Revise" in message
    assert "Adults only" in message and caught.value.report.findings
    assert guard("Adults only building.", acknowledged=True).findings
    assert guard("Three bedrooms and a yard.").ok


def test_the_audit_record_names_the_outcome_but_never_holds_the_message() -> None:
    text = "No kids, call me at 555-0100 about 12 Elm St."
    blocked = audit_record(check_fair_housing(text), False, "log_text_message")
    assert blocked == {
        "action": "log_text_message",
        "fair_housing": "blocked",
        "findings": [{"category": "familial status", "phrase": "No kids"}],
        "chars": len(text),
    }
    assert audit_record(check_fair_housing(text), True, "x")["fair_housing"] == "acknowledged"
    assert audit_record(check_fair_housing("Hello"), False, "x")["fair_housing"] == "clean"
    assert "555-0100" not in json.dumps(blocked)


def test_every_rule_names_its_legal_source_and_a_rewrite() -> None:
    assert {rule["category"] for rule in RULES["rules"]} == fair_housing.CATEGORIES
    assert len({rule["id"] for rule in RULES["rules"]}) == len(RULES["rules"])
    for rule in RULES["rules"]:
        assert "3604" in rule["source"] or "HUD" in rule["source"], rule["id"]
        assert rule["patterns"] and rule["explanation"] and rule["suggestion"]


def test_a_rule_without_a_source_or_with_an_unknown_category_is_refused() -> None:
    rule = {k: v for k, v in RULES["rules"][0].items() if k != "source"}
    with pytest.raises(ValueError) as missing:
        fair_housing._rule(rule)
    with pytest.raises(ValueError) as unknown:
        fair_housing._rule({**RULES["rules"][0], "category": "age"})
    assert "source" in str(missing.value) and "category" in str(unknown.value)


def test_the_rules_file_ships_in_the_wheel() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = pyproject["tool"]["setuptools"]["package-data"]["fub_mcp"]
    assert any(fnmatch.fnmatch(f"compliance/{fair_housing.RULES_FILE}", glob) for glob in globs)
