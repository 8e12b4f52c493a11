"""Compliance checks that run before fub-mcp writes communication content: the Fair Housing guard."""

from fub_mcp.compliance.fair_housing import (
    DISCLAIMER,
    FairHousingBlocked,
    Finding,
    Report,
    audit_record,
    check_fair_housing,
    guard,
)

__all__ = [
    "DISCLAIMER",
    "FairHousingBlocked",
    "Finding",
    "Report",
    "audit_record",
    "check_fair_housing",
    "guard",
]
