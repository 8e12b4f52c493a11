"""The intelligence layer's pure logic: lead scoring, local days and timezones, timelines, pipeline math.

Nothing here does I/O or imports `mcp`: tools in `fub_mcp/tools/insights.py` fetch from FUB and call in.
"""

from fub_mcp.insights.clock import LocalDay, local_day, parse_when, resolve_zone, to_utc_iso
from fub_mcp.insights.pipeline import PipelineTotals, StageTotals, summarize_deals
from fub_mcp.insights.scoring import (
    MODEL_VERSION,
    WEIGHTS,
    LeadScore,
    ScoringContext,
    build_context,
    score_lead,
)
from fub_mcp.insights.timeline import KINDS, merge_timeline

__all__ = [
    "KINDS",
    "MODEL_VERSION",
    "WEIGHTS",
    "LeadScore",
    "LocalDay",
    "PipelineTotals",
    "ScoringContext",
    "StageTotals",
    "build_context",
    "local_day",
    "merge_timeline",
    "parse_when",
    "resolve_zone",
    "score_lead",
    "summarize_deals",
    "to_utc_iso",
]
