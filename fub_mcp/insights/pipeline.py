"""Deal pipeline arithmetic: counts and sums by pipeline and stage, exact (Decimal), in pipeline order.

A model must never count rows itself; this is where the counting happens.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["AMOUNT_FIELDS", "PipelineTotals", "StageTotals", "amount", "summarize_deals"]

# Money fields summed when at least one deal carries them (FUB deal field -> output key).
AMOUNT_FIELDS = {
    "price": "price",
    "commissionValue": "commission",
    "agentCommission": "agent_commission",
    "teamCommission": "team_commission",
}


def amount(value: Any) -> Decimal | None:
    """A money value as Decimal (numbers or numeric strings like "450,000"); None when absent/unreadable."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        number = Decimal(str(value).replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


@dataclass
class StageTotals:
    stage_id: int | None
    name: str
    closed: bool = False
    count: int = 0
    sums: dict[str, Decimal] = field(default_factory=dict)

    def add(self, deal: Mapping[str, Any]) -> None:
        self.count += 1
        for source, key in AMOUNT_FIELDS.items():
            value = amount(deal.get(source))
            if value is not None:
                self.sums[key] = self.sums.get(key, Decimal(0)) + value


@dataclass
class PipelineTotals:
    pipeline_id: int | None
    name: str
    stages: list[StageTotals]

    @property
    def count(self) -> int:
        return sum(s.count for s in self.stages)

    def sums(self, *, open_only: bool = False) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for stage in self.stages:
            if open_only and stage.closed:
                continue
            for key, value in stage.sums.items():
                out[key] = out.get(key, Decimal(0)) + value
        return out

    @property
    def open_count(self) -> int:
        return sum(s.count for s in self.stages if not s.closed)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def summarize_deals(deals: Iterable[Mapping[str, Any]], pipelines: Sequence[Mapping[str, Any]]) -> list[PipelineTotals]:
    """Group deals by pipeline and stage. Every stage of every given pipeline is listed (zeros
    included) in the pipeline's own order; deals in a pipeline or stage the account setup does not
    know are kept under "unknown ..." rather than dropped, so the totals always add up."""
    table: dict[int | None, PipelineTotals] = {}
    stage_index: dict[tuple[int | None, int | None], StageTotals] = {}
    for pipeline in pipelines:
        pid = _int(pipeline.get("id"))
        stages = [
            StageTotals(_int(s.get("id")), str(s.get("name") or f"stage {s.get('id')}"), closed=bool(s.get("closedStage")))
            for s in pipeline.get("stages") or []
        ]
        table[pid] = PipelineTotals(pid, str(pipeline.get("name") or f"pipeline {pid}"), stages)
        for stage in stages:
            stage_index[(pid, stage.stage_id)] = stage
    for deal in deals:
        pid, sid = _int(deal.get("pipelineId")), _int(deal.get("stageId"))
        if pid not in table:
            table[pid] = PipelineTotals(pid, f"unknown pipeline (id {pid})", [])
        stage = stage_index.get((pid, sid))
        if stage is None:
            name = str(deal.get("stageName") or deal.get("stage") or "") or f"unknown stage (id {sid})"
            stage = StageTotals(sid, name)
            table[pid].stages.append(stage)
            stage_index[(pid, sid)] = stage
        stage.add(deal)
    return list(table.values())
