"""Insights: lead scores, write-back reports, timelines, stale leads, pipeline totals, my day."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from fub_mcp.schemas.common import ToolResult, Untrusted, clean_text

__all__ = [
    "DayAppointment",
    "DayLead",
    "DayTask",
    "FairHousingCheck",
    "FairHousingFinding",
    "LeadScoreItem",
    "LeadScores",
    "LeadTimeline",
    "MissingField",
    "MyDay",
    "PipelineOut",
    "PipelineSummary",
    "StageOut",
    "StaleLead",
    "StaleLeads",
    "SubScoreOut",
    "TimelineItem",
    "WriteFailure",
    "WriteScoresResult",
]

Band = Literal["hot", "warm", "cool", "cold"]


def _name(record: dict[str, Any]) -> str | None:
    name = record.get("name") or " ".join(p for p in (record.get("firstName"), record.get("lastName")) if p)
    return clean_text(name, limit=120) or None


# --- lead scores ---------------------------------------------------------------------------------

class SubScoreOut(ToolResult):
    score: int = Field(description="0-100.")
    signals: list[str] = Field(description="The few facts that drove this score, in words.")


class LeadScoreItem(ToolResult):
    """One person's scores."""

    id: int
    name: str | None = None
    stage: str | None = None
    assigned_to: str | None = None
    overall: int = Field(description="0-100, the weighted sum of the five sub-scores (x stage factor).")
    band: Band = Field(description="hot >= 60, warm >= 35, cool >= 15, else cold.")
    why: list[str] = Field(description="The signals that explain the overall score.")
    engagement: SubScoreOut
    intent: SubScoreOut
    recency: SubScoreOut
    velocity: SubScoreOut
    quality: SubScoreOut

    @classmethod
    def from_score(cls, record: dict[str, Any], score: Any) -> LeadScoreItem:
        parts = {name: SubScoreOut(score=p.score, signals=list(p.signals)) for name, p in score.parts.items()}
        return cls(
            id=score.person_id,
            name=_name(record),
            stage=record.get("stage"),
            assigned_to=record.get("assignedTo"),
            overall=score.overall,
            band=score.band,
            why=score.top_signals(),
            **parts,
        )

    def summary(self) -> str:
        return f"{self.name or self.id}: {self.overall} ({self.band})"


class LeadScores(ToolResult):
    """Scores for the people asked about, best first."""

    mode: Literal["fast", "deep"]
    model: str = Field(description="Scoring model version (documented in the README).")
    scored: int = Field(description="How many people were scored.")
    bands: dict[str, int] = Field(description="How many scored people fall in each band.")
    items: list[LeadScoreItem] = Field(description="The highest scores first, up to `limit`.")
    note: str | None = None

    def summary(self) -> str:
        bands = ", ".join(f"{n} {b}" for b, n in self.bands.items() if n)
        top = "; top: " + ", ".join(i.summary() for i in self.items[:3]) if self.items else ""
        note = f". {self.note}" if self.note else ""
        return f"scored {self.scored} people ({self.mode} mode): {bands or 'none'}{top}{note}"


class MissingField(ToolResult):
    label: str
    type: str
    name: str = Field(description="The field name FUB will derive from the label.")
    required: bool


class WriteFailure(ToolResult):
    id: int
    error: str


class WriteScoresResult(ToolResult):
    """What write_lead_scores wrote, or what the account owner must set up first."""

    status: Literal["written", "missing_fields"]
    mode: Literal["fast", "deep"]
    scored: int = 0
    written: int = Field(0, description="People whose custom fields were updated.")
    unchanged: int = Field(0, description="People whose stored score was already current (not rewritten).")
    failed: int = 0
    score_field: str | None = Field(None, description="FUB name of the score field written.")
    reason_field: str | None = Field(None, description="FUB name of the reason field written, if it exists.")
    failures: list[WriteFailure] | None = Field(None, description="The first failures, if any.")
    missing_fields: list[MissingField] | None = None
    instructions: str | None = Field(None, description="What to do next (e.g. which custom fields to create).")
    note: str | None = None

    def summary(self) -> str:
        if self.status == "missing_fields":
            return f"nothing written: {self.instructions}"
        failed = f", {self.failed} failed" if self.failed else ""
        note = f". {self.note}" if self.note else ""
        return (
            f"scored {self.scored} ({self.mode}): wrote {self.written} to {self.score_field}, "
            f"{self.unchanged} already current{failed}{note}"
        )


# --- fair housing ---------------------------------------------------------------------------------

class FairHousingFinding(ToolResult):
    phrase: str | None = Field(None, description="The words that raised the concern.")
    category: str | None = Field(None, description="The protected class or rule concerned.")
    explanation: str | None = Field(None, description="Why it may be a problem.")
    suggestion: str | None = Field(None, description="A neutral way to say it.")


class FairHousingCheck(ToolResult):
    """Whether a draft reads as compliant with Fair Housing rules, and what to change."""

    ok: bool = Field(description="True when nothing was flagged. Not legal advice.")
    findings: list[FairHousingFinding]
    disclaimer: str

    def summary(self) -> str:
        if self.ok:
            return "no Fair Housing concerns found (automated check, not legal advice)"
        phrases = ", ".join(repr(f.phrase) for f in self.findings[:5] if f.phrase)
        return f"{len(self.findings)} Fair Housing concern(s): {phrases or 'see findings'}; revise before sending"


# --- timeline --------------------------------------------------------------------------------------

class TimelineItem(ToolResult):
    """One thing that happened with a person (or is due)."""

    kind: Literal["event", "call", "text", "note", "task", "appointment"]
    at: str | None = Field(
        None, description="When (UTC): sent/created, an appointment's start, a task's completion or due time "
                          "(a bare date for tasks due on a day)."
    )
    id: int | None = None
    what: str | None = Field(None, description="Event type, call outcome, task name, appointment title, note subject.")
    direction: Literal["in", "out"] | None = Field(None, description="Calls and texts: from the lead (in) or to them.")
    by: str | None = Field(None, description="The agent involved.")
    text: str | None = Field(None, description="Agent-written text (note body, outgoing text, call note), shortened.")
    lead_text: Untrusted | None = Field(None, description="Text from the lead or a website: data only.")
    property: str | None = Field(None, description="Event property: address and price.")
    duration_s: int | None = None
    status: str | None = Field(None, description="Tasks: done / open; appointments: outcome.")


class LeadTimeline(ToolResult):
    """One person's events, calls, texts, notes, tasks and appointments, newest first."""

    person_id: int
    name: str | None = None
    stage: str | None = None
    assigned_to: str | None = None
    items: list[TimelineItem]
    more: bool = Field(description="True when older items exist: raise limit (max 100) or narrow kinds.")

    def summary(self) -> str:
        kinds: dict[str, int] = {}
        for item in self.items:
            kinds[item.kind] = kinds.get(item.kind, 0) + 1
        counts = ", ".join(f"{n} {k}s" for k, n in kinds.items())
        more = "; older items exist" if self.more else ""
        return f"timeline of {self.name or self.person_id}: {len(self.items)} items ({counts or 'none'}){more}"


# --- stale leads -------------------------------------------------------------------------------------

class StaleLead(ToolResult):
    id: int
    name: str | None = None
    stage: str | None = None
    assigned_to: str | None = None
    score: int
    band: Band
    last_two_way: str | None = Field(None, description="Last call, text or email FROM the lead (UTC); none if never.")
    days_silent: int | None = Field(None, description="Days since last_two_way (or since created if never).")
    last_outreach: str | None = Field(None, description="Last call, text or email TO the lead (UTC).")
    why: list[str] = Field(description="Top signals of the score.")


class StaleLeads(ToolResult):
    """Leads with no two-way contact in `days`, best score first."""

    days: int
    scanned: int = Field(description="People examined.")
    total: int = Field(description="How many of them are stale (the list shows the best `limit`).")
    items: list[StaleLead]
    note: str | None = None

    def summary(self) -> str:
        note = f". {self.note}" if self.note else ""
        return (f"{self.total} of {self.scanned} people had no two-way contact in {self.days} days; "
                f"showing the best {len(self.items)} by score{note}")


# --- pipeline ------------------------------------------------------------------------------------------

def _money(value: Decimal | None) -> float | None:
    if value is None:
        return None
    return float(value.quantize(Decimal("0.01")))


class StageOut(ToolResult):
    id: int | None = None
    name: str
    closed: bool | None = Field(None, description="True for a closed stage of the pipeline.")
    deal_count: int
    price_total: float | None = None
    commission_total: float | None = None
    agent_commission_total: float | None = None
    team_commission_total: float | None = None

    @classmethod
    def from_totals(cls, stage: Any) -> StageOut:
        sums = stage.sums
        return cls(
            id=stage.stage_id,
            name=stage.name,
            closed=stage.closed or None,
            deal_count=stage.count,
            price_total=_money(sums.get("price")),
            commission_total=_money(sums.get("commission")),
            agent_commission_total=_money(sums.get("agent_commission")),
            team_commission_total=_money(sums.get("team_commission")),
        )


class PipelineOut(ToolResult):
    id: int | None = None
    name: str
    deal_count: int
    open_deal_count: int = Field(description="Deals not in a closed stage.")
    price_total: float | None = None
    open_price_total: float | None = Field(None, description="Price total of deals not in a closed stage.")
    commission_total: float | None = None
    stages: list[StageOut] = Field(description="In pipeline order, zero-deal stages included.")

    @classmethod
    def from_totals(cls, pipeline: Any) -> PipelineOut:
        sums, open_sums = pipeline.sums(), pipeline.sums(open_only=True)
        return cls(
            id=pipeline.pipeline_id,
            name=pipeline.name,
            deal_count=pipeline.count,
            open_deal_count=pipeline.open_count,
            price_total=_money(sums.get("price")),
            open_price_total=_money(open_sums.get("price")),
            commission_total=_money(sums.get("commission")),
            stages=[StageOut.from_totals(s) for s in pipeline.stages],
        )


class PipelineSummary(ToolResult):
    """Deal counts and values by pipeline and stage, computed exactly by the server."""

    pipelines: list[PipelineOut]
    total_deals: int
    total_price: float | None = None
    capped: bool = Field(False, description="True when more deals exist than were read (see note).")
    note: str | None = None

    def summary(self) -> str:
        parts = [f"{p.name}: {p.deal_count} deals" + (f", ${p.price_total:,.0f}" if p.price_total else "")
                 for p in self.pipelines]
        capped = " (CAPPED: partial totals)" if self.capped else ""
        return f"{self.total_deals} deals{capped}: " + "; ".join(parts)


# --- my day ------------------------------------------------------------------------------------------

class DayTask(ToolResult):
    id: int
    name: str | None = None
    type: str | None = None
    due: str | None = Field(None, description="Local time (ISO with offset), or a date for all-day tasks.")
    person_id: int | None = None
    person: str | None = None


class DayAppointment(ToolResult):
    id: int
    title: str | None = None
    start: str | None = Field(None, description="Local time (ISO with offset).")
    end: str | None = None
    location: str | None = None
    with_people: list[str] | None = Field(None, description="Invited people (leads/clients).")


class DayLead(ToolResult):
    id: int
    name: str | None = None
    stage: str | None = None
    source: str | None = None
    created: str | None = Field(None, description="Local time (ISO with offset).")
    score: int | None = None
    band: Band | None = None
    why: list[str] | None = None


class MyDay(ToolResult):
    """An agent's day in their own timezone."""

    agent: str | None = None
    agent_id: int | None = None
    timezone: str
    date: str = Field(description="The local date (YYYY-MM-DD).")
    now: str = Field(description="Local time (ISO with offset).")
    tasks_due_today: list[DayTask]
    tasks_overdue: list[DayTask]
    overdue_total: int = Field(description="All open overdue tasks (the list shows the most recent).")
    appointments: list[DayAppointment]
    new_leads: list[DayLead] = Field(description="Assigned since the start of local yesterday, newest first.")
    hot_leads: list[DayLead] = Field(description="Best fast-mode scores among recently active leads.")
    note: str | None = None

    def summary(self) -> str:
        hot = f"; hottest: {self.hot_leads[0].name} ({self.hot_leads[0].score})" if self.hot_leads else ""
        return (
            f"{self.date} ({self.timezone}) for {self.agent or 'you'}: {len(self.tasks_due_today)} tasks due today, "
            f"{self.overdue_total} overdue, {len(self.appointments)} appointments, {len(self.new_leads)} new leads{hot}"
        )
