"""Account: the workspace snapshot (the model's name directory) and action plans."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from fub_mcp.schemas.common import ListResult, ToolResult, clean_text

if TYPE_CHECKING:
    from fub_mcp.fub.account import AccountSnapshot

__all__ = [
    "ActionPlan",
    "ActionPlanAssignment",
    "ActionPlansPage",
    "FieldInfo",
    "Me",
    "NamedId",
    "PipelineInfo",
    "UserInfo",
    "Workspace",
]

MAX_USERS = 200
MAX_FIELDS = 100
MAX_SMART_LISTS = 100
MAX_CHOICES = 30


class NamedId(ToolResult):
    id: int
    name: str | None = None


class Me(NamedId):
    role: str | None = None
    timezone: str | None = None


class UserInfo(NamedId):
    role: str | None = Field(None, description="Broker, Agent or Lender.")


class PipelineInfo(NamedId):
    stages: list[NamedId] = Field(description="Deal stages in pipeline order.")


class FieldInfo(ToolResult):
    label: str
    name: str = Field(description="FUB's field name (customXxx); tools accept the label too.")
    type: str | None = None
    choices: list[str] | None = None


def _fields(records: list[dict[str, Any]]) -> list[FieldInfo]:
    return [
        FieldInfo(
            label=clean_text(f.get("label") or f["name"], limit=100) or f["name"],
            name=f["name"],
            type=f.get("type"),
            choices=[str(c) for c in f.get("choices") or []][:MAX_CHOICES] or None,
        )
        for f in records[:MAX_FIELDS]
        if f.get("name")
    ]


def _capped(what: str, records: list[Any], cap: int) -> list[str]:
    return [f"only the first {cap} of {len(records)} {what} are listed"] if len(records) > cap else []


class Workspace(ToolResult):
    """Who you are and the account's names: users, person stages, pipelines, custom fields, smart lists."""

    me: Me
    users: list[UserInfo]
    person_stages: list[str] = Field(description="Person stage names, in FUB's order.")
    pipelines: list[PipelineInfo] = Field(description="Deal pipelines with their stages.")
    custom_fields: list[FieldInfo] = Field(description="Person custom fields.")
    deal_custom_fields: list[FieldInfo] | None = None
    smart_lists: list[NamedId]
    note: str | None = None

    @classmethod
    def from_snapshot(
        cls, snap: AccountSnapshot, deal_fields: list[dict[str, Any]] | None, notes: list[str]
    ) -> Workspace:
        me = snap.me
        notes = [
            *notes,
            *_capped("users", snap.users, MAX_USERS),
            *_capped("custom fields", snap.custom_fields, MAX_FIELDS),
            *_capped("smart lists", snap.smart_lists, MAX_SMART_LISTS),
        ]
        return cls(
            me=Me(id=me.get("id") or 0, name=me.get("name"), role=me.get("role"), timezone=snap.timezone),
            users=[
                UserInfo(id=u["id"], name=u.get("name"), role=u.get("role")) for u in snap.users[:MAX_USERS]
            ],
            person_stages=[s["name"] for s in snap.stages if s.get("name")],
            pipelines=[
                PipelineInfo(
                    id=p["id"],
                    name=p.get("name"),
                    stages=[NamedId(id=s["id"], name=s.get("name")) for s in p["stages"]],
                )
                for p in snap.pipelines
            ],
            custom_fields=_fields(snap.custom_fields),
            deal_custom_fields=_fields(deal_fields) if deal_fields else None,
            smart_lists=[
                NamedId(id=s["id"], name=clean_text(s.get("name"), limit=100))
                for s in snap.smart_lists[:MAX_SMART_LISTS]
            ],
            note="; ".join(notes) or None,
        )

    def summary(self) -> str:
        return (
            f"you are {self.me.name} ({self.me.role or 'user'}, {self.me.timezone}); "
            f"{len(self.users)} users, "
            f"{len(self.person_stages)} person stages, {len(self.pipelines)} pipelines, "
            f"{len(self.custom_fields)} custom fields, {len(self.smart_lists)} smart lists"
        )


class ActionPlan(ToolResult):
    id: int
    name: str | None = None
    description: str | None = None
    status: str | None = None

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ActionPlan:
        return cls(
            id=record["id"],
            name=clean_text(record.get("name"), limit=150),
            description=clean_text(record.get("description"), limit=300) or None,
            status=record.get("status"),
        )


class ActionPlansPage(ListResult[ActionPlan]):
    """A page of action plans."""

    noun: ClassVar[str] = "action plans"


class ActionPlanAssignment(ToolResult):
    """A person on an action plan, as FUB stored it."""

    id: int
    person_id: int | None = None
    action_plan_id: int | None = None
    action_plan: str | None = Field(None, description="The plan's name.")
    status: str | None = Field(None, description="Running, Paused or Completed.")
    created: str | None = None

    @classmethod
    def from_record(cls, record: dict[str, Any], plan_name: str | None = None) -> ActionPlanAssignment:
        return cls(
            id=record["id"],
            person_id=record.get("personId"),
            action_plan_id=record.get("actionPlanId"),
            action_plan=clean_text(record.get("actionPlanName") or plan_name, limit=150),
            status=record.get("status"),
            created=record.get("created"),
        )

    def summary(self) -> str:
        plan = self.action_plan or self.action_plan_id
        return f"person {self.person_id} is on action plan {plan} ({self.status or 'started'})"
