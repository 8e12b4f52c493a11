"""The Fair Housing guard: flags wording that may breach the US Fair Housing Act before it is sent.

The rules are data (`fair_housing_rules.json`, next to this file): per rule a category (one of the
seven protected classes, or steering), regular expressions, why it is a concern and a neutral
rewrite. Matching is case-insensitive on word boundaries, after masking an allowlist of harmless
property terms ("walk-in closet", "master bedroom", "family room", "near the bus line"), so the
rules can stay broad without flagging the description of a house.

`check_fair_housing(text)` is pure and fast (patterns compiled once). `guard(text)` is what every
tool that writes outgoing communication calls first: it raises `FairHousingBlocked` when something
is flagged and the caller has not acknowledged the findings. `audit_record` is the audit-log entry of
that decision (categories and phrases, never the message itself).

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
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2011": "-", "\u2013": "-"})


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
    """One case-insensitive alternation of whole-word patterns (plural 's' allowed at the end)."""
    return re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + r")s?\b", re.IGNORECASE)


@functools.cache
def _load() -> tuple[re.Pattern[str], tuple[_Rule, ...]]:
    data: dict[str, Any] = json.loads(
        resources.files(__package__).joinpath("fair_housing_rules.json").read_text(encoding="utf-8")
    )
    rules = tuple(
        _Rule(r["id"], r["category"], _words(r["patterns"]), r["explanation"], r["suggestion"])
        for r in data["rules"]
    )
    return _words(data["allow"]), rules


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
    return Report(findings=tuple(f for _, f in sorted(found.values(), key=lambda item: item[0])))


class FairHousingBlocked(Exception):
    """Raised by `guard` when the text was flagged and the caller has not acknowledged the findings."""

    def __init__(self, report: Report) -> None:
        self.report = report
        listed = "; ".join(f"{f.category}: {f.phrase!r} ({f.suggestion})" for f in report.findings[:5])
        more = f"; and {len(report.findings) - 5} more" if len(report.findings) > 5 else ""
        super().__init__(
            f"Not written: possible Fair Housing issue(s): {listed}{more}. Revise the text (check it with "
            "check_fair_housing), or, after a human has reviewed it, repeat with acknowledge_fair_housing=true. "
            "Automated screen, not legal advice."
        )


def guard(text: str, *, acknowledged: bool = False, audit: AuditLog | None = None, action: str = "write") -> Report:
    """Check outgoing text, record the decision in `audit`, and raise `FairHousingBlocked` on findings
    unless `acknowledged`."""
    report = check_fair_housing(text)
    if audit is not None:
        audit.record(**audit_record(report, acknowledged, action))
    if report.findings and not acknowledged:
        raise FairHousingBlocked(report)
    return report


def audit_record(report: Report, acknowledged: bool, action: str) -> dict[str, Any]:
    """The audit-log fields of a guard decision (categories and phrases only, never the message)."""
    if not report.findings:
        outcome = "clean"
    else:
        outcome = "acknowledged" if acknowledged else "blocked"
    return {
        "action": action,
        "fair_housing": outcome,
        "findings": [{"category": f.category, "phrase": f.phrase} for f in report.findings],
    }
