"""The Fair Housing guard: flags wording that may breach the US Fair Housing Act before it is sent.

The rules are data (`fair_housing_rules.json`, next to this file): per rule a category (one of the
seven protected classes, or steering), its legal source (42 U.S.C. 3604(c), HUD guidance), regular
expressions, why it is a concern and a neutral rewrite; terms reviewed and deliberately not flagged
are listed there too. Matching is case-insensitive on word boundaries, after masking an allowlist of harmless
property terms ("walk-in closet", "master bedroom", "family room", "near the bus line"), so the
rules can stay broad without flagging the description of a house.

`check_fair_housing(text)` is pure and fast (patterns compiled once). `guard(text)` is what every
tool that writes outgoing communication calls first: it raises `FairHousingBlocked` when something
is flagged and the caller has not acknowledged the findings. `audit_record` is the audit-log entry of
that decision (categories, phrases and the text's length, never the message itself).

An automated screen for common problem phrases: not legal advice (see `DISCLAIMER`).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fub_mcp.fub.audit import AuditLog

__all__ = [
    "DISCLAIMER",
    "FairHousingBlocked",
    "Finding",
    "Report",
    "audit_record",
    "check_fair_housing",
    "guard",
]

DISCLAIMER = (
    "Automated screen for common Fair Housing problem phrases; an aid, not legal advice. It can miss "
    "issues and flag harmless text; the agent remains responsible for complying with federal, state "
    "and local fair housing law."
)
RULES_FILE = "fair_housing_rules.json"
# The seven classes of 42 U.S.C. 3604 (race and color share one category) and steering.
CATEGORIES = frozenset(
    {"race or color", "religion", "sex", "disability", "familial status", "national origin", "steering"}
)
# Typographic quotes and dashes as their plain forms, so "you\u2019d" matches a rule written "you'd".
_QUOTES = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2011": "-", "\u2013": "-"}
)


@dataclass(frozen=True)
class Finding:
    """One phrase that may be a problem, and what to say instead."""

    rule: str
    category: str
    phrase: str
    explanation: str
    suggestion: str


@dataclass(frozen=True)
class Report:
    """The result of a check: no findings means nothing was flagged."""

    findings: tuple[Finding, ...]
    disclaimer: str = DISCLAIMER
    text_checked_chars: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings


@dataclass(frozen=True)
class _Rule:
    id: str
    category: str
    pattern: re.Pattern[str]
    explanation: str
    suggestion: str


def _words(patterns: list[str]) -> re.Pattern[str]:
    """One case-insensitive alternation of whole-word patterns (plural 's' allowed at the end; never
    the start of a possessive, so "no children's items" is not "no children")."""
    alternation = "|".join(f"(?:{p})" for p in patterns)
    return re.compile(r"\b(?:" + alternation + r")s?\b(?!'s\b)", re.IGNORECASE)


def _rule(raw: dict[str, Any]) -> _Rule:
    """One rule of the data file, refused loudly when a reviewer left out a field or a category."""
    missing = {"id", "category", "source", "patterns", "explanation", "suggestion"} - raw.keys()
    if missing or raw["category"] not in CATEGORIES or not raw["patterns"]:
        problem = f"missing {sorted(missing)}" if missing else "unknown category or no patterns"
        raise ValueError(f"bad Fair Housing rule {raw.get('id')!r}: {problem}")
    return _Rule(raw["id"], raw["category"], _words(raw["patterns"]), raw["explanation"], raw["suggestion"])


@functools.cache
def _load() -> tuple[re.Pattern[str], tuple[_Rule, ...]]:
    data: dict[str, Any] = json.loads(
        resources.files(__package__).joinpath(RULES_FILE).read_text(encoding="utf-8")
    )
    return _words(data["allow"]), tuple(_rule(raw) for raw in data["rules"])


def _mask(text: str, allow: re.Pattern[str]) -> str:
    """`text` with allowlisted spans blanked out (same length, so match offsets stay valid)."""
    return allow.sub(lambda m: " " * len(m.group()), text)


def check_fair_housing(text: str) -> Report:
    """Every flagged phrase in `text`, in reading order, one finding per rule and phrase."""
    allow, rules = _load()
    normalized = " ".join(text.translate(_QUOTES).split())
    masked = _mask(normalized, allow)
    found: dict[tuple[str, str], tuple[int, Finding]] = {}
    for rule in rules:
        for match in rule.pattern.finditer(masked):
            phrase = normalized[match.start() : match.end()]
            key = (rule.id, phrase.lower())
            if key not in found:
                finding = Finding(rule.id, rule.category, phrase, rule.explanation, rule.suggestion)
                found[key] = (match.start(), finding)
    ordered = tuple(f for _, f in sorted(found.values(), key=lambda item: item[0]))
    return Report(findings=ordered, text_checked_chars=len(text))


class FairHousingBlocked(Exception):
    """Raised by `guard` when the text was flagged and the caller has not acknowledged the findings."""

    def __init__(self, report: Report) -> None:
        self.report = report
        listed = "; ".join(f"{f.category}: {f.phrase!r} ({f.suggestion})" for f in report.findings[:5])
        more = f"; and {len(report.findings) - 5} more" if len(report.findings) > 5 else ""
        super().__init__(
            f"Not written: possible Fair Housing issue(s): {listed}{more}. Revise the text (check it with "
            "check_fair_housing), or, after a human has reviewed it, repeat with "
            "acknowledge_fair_housing=true. Automated screen, not legal advice."
        )


def guard(
    text: str, *, acknowledged: bool = False, audit: AuditLog | None = None, action: str = "write"
) -> Report:
    """Check outgoing text, record the decision in `audit`, and raise `FairHousingBlocked` on findings
    unless `acknowledged`."""
    report = check_fair_housing(text)
    if audit is not None:
        audit.record(**audit_record(report, acknowledged, action))
    if report.findings and not acknowledged:
        raise FairHousingBlocked(report)
    return report


def audit_record(report: Report, acknowledged: bool, action: str) -> dict[str, Any]:
    """The audit-log fields of a guard decision: categories, phrases and the text's length, never the text."""
    if not report.findings:
        outcome = "clean"
    else:
        outcome = "acknowledged" if acknowledged else "blocked"
    return {
        "action": action,
        "fair_housing": outcome,
        "findings": [{"category": f.category, "phrase": f.phrase} for f in report.findings],
        "chars": report.text_checked_chars,
    }
