"""Pipeline arithmetic: exact sums, pipeline order, nothing dropped."""

from __future__ import annotations

from decimal import Decimal

from fub_mcp.insights.pipeline import amount, summarize_deals

PIPELINES = [
    {"id": 1, "name": "Buyers", "stages": [
        {"id": 10, "name": "Offer"}, {"id": 11, "name": "Under Contract"}, {"id": 12, "name": "Closed", "closedStage": True},
    ]},
    {"id": 2, "name": "Sellers", "stages": [{"id": 20, "name": "Listed"}]},
]


def test_deals_are_counted_and_summed_exactly_by_pipeline_and_stage() -> None:
    deals = [
        {"pipelineId": 1, "stageId": 10, "price": 100000.10, "commissionValue": 3000},
        {"pipelineId": 1, "stageId": 10, "price": 200000.20},
        {"pipelineId": 1, "stageId": 12, "price": "300,000.30"},
        {"pipelineId": 9, "stageId": 90, "price": 5},
    ]
    buyers, sellers, unknown = summarize_deals(deals, PIPELINES)
    assert [s.name for s in buyers.stages] == ["Offer", "Under Contract", "Closed"]
    assert [s.count for s in buyers.stages] == [2, 0, 1]
    assert buyers.stages[0].sums == {"price": Decimal("300000.30"), "commission": Decimal("3000")}
    assert buyers.count == 3 and buyers.open_count == 2
    assert buyers.sums()["price"] == Decimal("600000.60")
    assert buyers.sums(open_only=True)["price"] == Decimal("300000.30")
    assert sellers.count == 0 and sellers.stages[0].sums == {}
    assert unknown.name == "unknown pipeline (id 9)" and unknown.stages[0].name == "unknown stage (id 90)"


def test_amount_reads_numbers_and_ignores_junk() -> None:
    assert amount(12) == Decimal(12) and amount("$1,250.50") == Decimal("1250.50")
    assert amount(None) is None and amount("") is None and amount("n/a") is None and amount(True) is None
    assert amount("NaN") is None
