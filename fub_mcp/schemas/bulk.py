"""Bulk: many leads in, many people changed, with one outcome per row or id (capped in the output)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Annotated, Literal, TypeVar

from pydantic import AwareDatetime, Field

from fub_mcp.schemas.common import ToolResult
from fub_mcp.schemas.events import EventOutcome, EventType, LeadPerson, LeadProperty

__all__ = ["BulkUpdateResult", "IdOutcome", "ImportLead", "ImportResult", "RowOutcome", "listed"]

MAX_LISTED = 100  # outcomes listed one by one; beyond that only the failures are
OutcomeT = TypeVar("OutcomeT", bound=ToolResult)


class ImportLead(LeadPerson):
    """One lead to send to FUB as an event (FUB de-duplicates it by email, or phone plus name)."""

    type: EventType = Field(description="Registration or an Inquiry starts the lead flow's action plans.")
    source: Annotated[str, Field(max_length=100)] | None = Field(None, description="Lead source.")
    message: Annotated[str, Field(max_length=5000)] | None = Field(None, description="What the lead wrote.")
    description: Annotated[str, Field(max_length=5000)] | None = None
    property: LeadProperty | None = None
    occurred_at: AwareDatetime | None = Field(
        None, description="With UTC offset; over a day ago = history, no automations."
    )

    def person(self) -> LeadPerson:
        return LeadPerson(**self.model_dump(include=set(LeadPerson.model_fields), exclude_none=True))


def listed(outcomes: Sequence[OutcomeT], ok: set[str]) -> tuple[list[OutcomeT], str | None]:
    """All outcomes when few; else only the failures (at most MAX_LISTED), with a note saying so."""
    if len(outcomes) <= MAX_LISTED:
        return list(outcomes), None
    failures = [o for o in outcomes if o.outcome not in ok]
    note = f"{len(outcomes)} outcomes: only failures are listed" + (
        f" (the first {MAX_LISTED} of {len(failures)})" if len(failures) > MAX_LISTED else ""
    )
    return failures[:MAX_LISTED], note


def _counts(outcomes: Sequence[ToolResult]) -> dict[str, int]:
    return dict(Counter(o.outcome for o in outcomes))


class RowOutcome(ToolResult):
    index: int = Field(description="Position in `leads`, from 0.")
    outcome: EventOutcome | Literal["error", "not_sent"]
    person_id: int | None = None
    error: str | None = None


class ImportResult(ToolResult):
    """What FUB did with each lead."""

    total: int
    counts: dict[str, int] = Field(description="Rows per outcome.")
    rows: list[RowOutcome]
    next_index: int | None = Field(
        None, description="Rows from here on were not sent (time budget): send them again."
    )
    note: str | None = None

    @classmethod
    def build(cls, rows: list[RowOutcome], next_index: int | None) -> ImportResult:
        shown, note = listed(rows, {"created_person", "updated_existing_person"})
        return cls(total=len(rows), counts=_counts(rows), rows=shown, next_index=next_index, note=note)

    def summary(self) -> str:
        counts = ", ".join(f"{n} {k}" for k, n in sorted(self.counts.items()))
        more = "" if self.next_index is None else f"; rows from {self.next_index} not sent: send them again"
        return f"{self.total} leads: {counts}{more}"


class IdOutcome(ToolResult):
    id: int
    outcome: Literal["updated", "unchanged", "not_found", "error"]
    error: str | None = None


class BulkUpdateResult(ToolResult):
    """The people changed in this call, and a cursor when work remains."""

    processed: int = Field(description="People handled by this call.")
    counts: dict[str, int] = Field(description="This call's people per outcome.")
    counts_so_far: dict[str, int] | None = Field(None, description="Per outcome, across the job's calls.")
    results: list[IdOutcome]
    has_more: bool = Field(
        description="True when people remain: call again with the same arguments and cursor=next_cursor."
    )
    next_cursor: str | None = None
    note: str | None = None

    @classmethod
    def build(cls, outcomes: list[IdOutcome], before: dict[str, int], notes: list[str]) -> BulkUpdateResult:
        """This call's outcomes (`has_more`/`next_cursor` are set by the caller when work remains)."""
        shown, note = listed(outcomes, {"updated", "unchanged"})
        counts = _counts(outcomes)
        so_far = {k: before.get(k, 0) + counts.get(k, 0) for k in {*before, *counts}}
        return cls(
            processed=len(outcomes), counts=counts, counts_so_far=so_far if before else None, results=shown,
            has_more=False, note="; ".join([*notes, *filter(None, [note])]) or None,
        )

    def summary(self) -> str:
        counts = ", ".join(f"{n} {k}" for k, n in sorted(self.counts.items())) or "nothing to do"
        more = "; more remain: call again with the same arguments and the cursor" if self.has_more else ""
        note = f". {self.note}" if self.note else ""
        return f"{self.processed} people: {counts}{more}{note}"
