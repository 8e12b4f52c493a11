"""Deals: lean and detailed projections of FUB deal records, and the results of deal tools."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from fub_mcp.schemas.common import ListResult, ToolResult, clean_text

__all__ = ["DealDetail", "DealRef", "DealResult", "DealsPage", "MinimalDeal", "stage_names"]


class DealRef(ToolResult):
    """A person or user on a deal."""

    id: int
    name: str | None = None


def stage_names(record: dict[str, Any], pipelines: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """(pipeline name, stage name) of a deal: from the record when FUB names them, else from the account."""
    pipeline = next((p for p in pipelines if p.get("id") == record.get("pipelineId")), {})
    stage = next((s for s in pipeline.get("stages") or [] if s.get("id") == record.get("stageId")), {})
    return record.get("pipelineName") or pipeline.get("name"), record.get("stageName") or stage.get("name")


def _refs(entries: Any) -> list[DealRef] | None:
    refs = [
        DealRef(id=e["id"], name=clean_text(e.get("name"), limit=120))
        for e in entries or []
        if isinstance(e, dict) and isinstance(e.get("id"), int)
    ]
    return refs or None


class MinimalDeal(ToolResult):
    """A deal in a list: enough to recognise it and see where it stands."""

    id: int
    name: str | None = None
    pipeline: str | None = None
    stage: str | None = None
    price: float | None = None
    people: list[DealRef] | None = Field(None, description="The clients on the deal.")
    users: list[DealRef] | None = Field(None, description="The agents on the deal.")
    projected_close_date: str | None = None
    status: str | None = Field(None, description="Active, Archived or Deleted.")
    entered_stage_at: str | None = None

    @classmethod
    def from_record(cls, record: dict[str, Any], pipelines: list[dict[str, Any]]) -> MinimalDeal:
        pipeline, stage = stage_names(record, pipelines)
        return cls(
            id=record["id"],
            name=clean_text(record.get("name"), limit=200),
            pipeline=pipeline,
            stage=stage,
            price=record.get("price"),
            people=_refs(record.get("people")),
            users=_refs(record.get("users")),
            projected_close_date=record.get("projectedCloseDate"),
            status=record.get("status"),
            entered_stage_at=record.get("enteredStageAt"),
        )

    def summary(self) -> str:
        where = " / ".join(p for p in (self.pipeline, self.stage) if p) or "no stage"
        return f"deal {self.id}: {self.name or '(no name)'}, {where}"


class DealDetail(MinimalDeal):
    """A deal as FUB stored it: the lean fields plus money, description and custom fields by label."""

    commission_value: float | None = None
    agent_commission: float | None = None
    team_commission: float | None = None
    description: str | None = None
    custom_fields: dict[str, Any] | None = Field(None, description="Deal custom field values by label.")
    created: str | None = None

    @classmethod
    def from_full_record(
        cls, record: dict[str, Any], pipelines: list[dict[str, Any]], labels: dict[str, str]
    ) -> DealDetail:
        custom = {
            labels.get(k, k): v for k, v in record.items() if k.startswith("custom") and v not in (None, "")
        }
        return cls(
            **MinimalDeal.from_record(record, pipelines).model_dump(),
            commission_value=record.get("commissionValue"),
            agent_commission=record.get("agentCommission"),
            team_commission=record.get("teamCommission"),
            description=clean_text(record.get("description"), limit=2000) or None,
            custom_fields=custom or None,
            created=record.get("createdAt"),
        )


class DealsPage(ListResult[MinimalDeal]):
    """A page of deals, newest first."""

    noun: ClassVar[str] = "deals"


class DealResult(ToolResult):
    """The deal as FUB stored it after a write."""

    outcome: Literal["created", "updated"]
    deal: DealDetail

    def summary(self) -> str:
        return f"{self.deal.summary()} ({self.outcome})"
