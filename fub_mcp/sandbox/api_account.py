"""The account: users, /me, /identity, stages, pipelines, custom fields, smart lists, action plans and
deals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from fub_mcp.sandbox._util import (
    as_bool,
    as_int,
    as_number,
    bad_request,
    check_fields,
    csv,
    fmt_ts,
    forbidden,
    not_found,
    parse_date,
    require,
)
from fub_mcp.sandbox.api_people import (
    common_filters,
    custom_value,
    get_person,
    person_exists,
    user_by_id,
    visible_person_ids_sql,
)
from fub_mcp.sandbox.constants import ACCOUNT_ID, ACCOUNT_TIMEZONE
from fub_mcp.sandbox.http import BASIC_SORTS, Req, json_response, no_content, paginate
from fub_mcp.sandbox.seed import custom_name

__all__ = ["ACCOUNT_ROUTES"]

_NAME_SORT = "lower(COALESCE(json_extract(data, '$.name'), ''))"
_WEIGHT_SORT = "COALESCE(json_extract(data, '$.orderWeight'), 0)"


def _get(req: Req, table: str) -> dict[str, Any]:
    doc = req.sandbox.db.get(table, as_int(req.path_params["id"], "id"))
    if doc is None:
        raise not_found()
    return doc


def _require_owner(req: Req, what: str) -> None:
    if not req.owner:
        raise forbidden(f"Only the account owner can {what}")


# --- users, me, identity ----------------------------------------------------------------------------

USER_OUT = (
    "id",
    "created",
    "updated",
    "name",
    "firstName",
    "lastName",
    "email",
    "phone",
    "role",
    "status",
    "timezone",
    "beta",
    "isOwner",
    "leadEmailAddress",
    "groups",
)


def _user_serializer(req: Req) -> Any:
    fields = set(csv(req.q("fields") or ""))
    if not fields or "allFields" in fields:
        return lambda user: {k: user.get(k) for k in USER_OUT}
    return lambda user: {k: user.get(k) for k in USER_OUT if k == "id" or k in fields}


async def list_users(req: Req) -> Response:
    where: list[str] = []
    params: list[Any] = []
    common_filters(req, req.query, where, params)
    j = "json_extract(data, '$.{}')".format
    if req.q("role"):
        where.append(f"{j('role')} = ?")
        params.append(req.q("role"))
    for key in ("name", "email"):
        if req.q(key):
            where.append(f"lower({j(key)}) = ?")
            params.append((req.q(key) or "").strip().lower())
    if not (req.q("includeDeleted") and as_bool(req.q("includeDeleted"), "includeDeleted")):
        where.append(f"{j('status')} IS NOT 'Deleted'")
    sorts = {**BASIC_SORTS, "name": _NAME_SORT}
    return paginate(
        req, "users", "users", where=where, params=params, sorts=sorts, serialize=_user_serializer(req)
    )


async def get_user(req: Req) -> Response:
    return json_response(_user_serializer(req)(_get(req, "users")))


async def me(req: Req) -> Response:
    user = req.user
    return json_response(
        {
            "id": user["id"],
            "created": user["created"],
            "updated": user["updated"],
            "name": user["name"],
            "firstName": user["firstName"],
            "lastName": user["lastName"],
            "role": user["role"],
            "email": user["email"],
            "phone": user["phone"],
            "timeZone": ACCOUNT_TIMEZONE,
            "status": user["status"],
            "signature": None,
            "rawSignature": None,
            "apiKey": req.api_key,
            "account": ACCOUNT_ID,
            "teamMember": not user.get("isOwner"),
            "beta": False,
            "betaOnly": False,
            "connectedEmail": None,
            "leadEmailAddress": user.get("leadEmailAddress"),
            "callingEnabled": False,
            "voicemailEnabled": False,
            "isOwner": bool(user.get("isOwner")),
            "unreadConversationCount": 0,
            "notifyBy": [],
            "features": [],
            "groups": user.get("groups") or [],
        }
    )


async def identity(req: Req) -> Response:
    owner = next((u for u in req.sandbox.db.select("users") if u.get("isOwner")), req.user)
    return json_response(
        {
            "account": {
                "id": ACCOUNT_ID,
                "domain": "sandboxrealty",
                "name": "Sandbox Realty",
                "owner": {"id": owner["id"], "name": owner["name"], "email": owner["email"]},
            },
            "user": {"id": req.user["id"], "name": req.user["name"], "email": req.user["email"]},
        }
    )


# --- stages -----------------------------------------------------------------------------------------


def _stage_serializer(req: Req) -> Any:
    with req.sandbox.db.read() as conn:
        counts = dict(conn.execute("SELECT stage_id, COUNT(*) FROM people GROUP BY stage_id").fetchall())
    return lambda s: {
        "id": s["id"],
        "name": s["name"],
        "orderWeight": s["orderWeight"],
        "isProtected": s.get("isProtected", False),
        "peopleCount": counts.get(s["id"], 0),
    }


async def list_stages(req: Req) -> Response:
    sorts = {"id": "id", "name": _NAME_SORT, "orderWeight": _WEIGHT_SORT}
    return paginate(
        req,
        "stages",
        "stages",
        sorts=sorts,
        default_sort="orderWeight",
        serialize=_stage_serializer(req),
        cursors=False,
    )


async def get_stage(req: Req) -> Response:
    return json_response(_stage_serializer(req)(_get(req, "stages")))


# --- pipelines --------------------------------------------------------------------------------------

PIPELINE_STAGE_OUT = ("id", "name", "description", "orderWeight", "color", "closedStage")


def pipeline_out(pipeline: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": pipeline["id"],
        "name": pipeline["name"],
        "description": pipeline.get("description"),
        "orderWeight": pipeline.get("orderWeight"),
        "stages": [{k: s.get(k) for k in PIPELINE_STAGE_OUT} for s in pipeline.get("stages") or []],
    }


async def list_pipelines(req: Req) -> Response:
    where: list[str] = []
    params: list[Any] = []
    if req.q("name"):
        where.append(f"{_NAME_SORT} = ?")
        params.append((req.q("name") or "").strip().lower())
    sorts = {"id": "id", "name": _NAME_SORT, "orderWeight": _WEIGHT_SORT}
    return paginate(
        req,
        "pipelines",
        "pipelines",
        where=where,
        params=params,
        sorts=sorts,
        default_sort="orderWeight",
        serialize=pipeline_out,
        cursors=False,
    )


async def get_pipeline(req: Req) -> Response:
    return json_response(pipeline_out(_get(req, "pipelines")))


def deal_stage(req: Req, stage_id: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    sid = as_int(stage_id, "stageId")
    for pipeline in req.sandbox.db.select("pipelines"):
        for stage in pipeline.get("stages") or []:
            if stage["id"] == sid:
                return pipeline, stage
    raise bad_request(f"Invalid stageId: deal stage {sid} does not exist")


# --- custom fields ----------------------------------------------------------------------------------

CUSTOM_FIELD_OUT = ("id", "label", "name", "type", "choices", "isRecurring", "hideIfEmpty", "orderWeight")
CUSTOM_FIELD_TYPES = ("text", "date", "dropdown", "number")  # ⚠️ FUB's full enum is undocumented


def custom_field_out(field: Mapping[str, Any]) -> dict[str, Any]:
    return {k: field.get(k) for k in CUSTOM_FIELD_OUT}


def _list_fields(req: Req, table: str, key: str) -> Response:
    where: list[str] = []
    params: list[Any] = []
    if req.q("label"):
        where.append("lower(json_extract(data, '$.label')) = ?")
        params.append((req.q("label") or "").strip().lower())
    sorts = {"id": "id", "label": "lower(json_extract(data, '$.label'))", "orderWeight": _WEIGHT_SORT}
    return paginate(
        req,
        table,
        key,
        where=where,
        params=params,
        sorts=sorts,
        default_sort="orderWeight",
        serialize=custom_field_out,
        cursors=False,
    )


def _create_field(req: Req, table: str, event: str) -> Response:
    _require_owner(req, "create custom fields")
    body = req.body()
    check_fields(body, {"label", "type", "choices", "isRecurring", "hideIfEmpty", "orderWeight"})
    if not isinstance(body.get("label"), str) or not body["label"].strip():
        raise bad_request("Field label cannot be blank")
    require(body, "type")
    if body["type"] not in CUSTOM_FIELD_TYPES:
        raise bad_request(f"Invalid type '{body['type']}'. Valid: {', '.join(CUSTOM_FIELD_TYPES)}")
    choices = body.get("choices") or []
    if body["type"] == "dropdown" and (not isinstance(choices, list) or not choices):
        raise bad_request("choices are required for a dropdown field")
    name = custom_name(body["label"])
    existing = req.sandbox.db.select(table)
    if any(f["name"] == name for f in existing):
        raise bad_request(f"A custom field named {name} already exists")
    now = fmt_ts(req.sandbox.now())
    field = req.sandbox.db.insert(
        table,
        {
            "created": now,
            "updated": now,
            "label": body["label"].strip(),
            "name": name,
            "type": body["type"],
            "choices": [str(c) for c in choices] if body["type"] == "dropdown" else [],
            "isRecurring": as_bool(body.get("isRecurring", False), "isRecurring"),
            "hideIfEmpty": as_bool(body.get("hideIfEmpty", False), "hideIfEmpty"),
            "orderWeight": as_int(body.get("orderWeight", (len(existing) + 1) * 1000), "orderWeight"),
        },
    )
    req.sandbox.emit(event, [field["id"]])
    return json_response(custom_field_out(field), 201)


async def list_custom_fields(req: Req) -> Response:
    return _list_fields(req, "customfields", "customfields")


async def get_custom_field(req: Req) -> Response:
    return json_response(custom_field_out(_get(req, "customfields")))


async def create_custom_field(req: Req) -> Response:
    return _create_field(req, "customfields", "customFieldsCreated")


# Deal custom fields: the same shape, their own list (collection key `dealCustomfields`, fub-api.md §2).
async def list_deal_custom_fields(req: Req) -> Response:
    return _list_fields(req, "dealcustomfields", "dealCustomfields")


async def get_deal_custom_field(req: Req) -> Response:
    return json_response(custom_field_out(_get(req, "dealcustomfields")))


async def create_deal_custom_field(req: Req) -> Response:
    return _create_field(req, "dealcustomfields", "dealCustomFieldsCreated")


# --- smart lists ------------------------------------------------------------------------------------


async def list_smart_lists(req: Req) -> Response:
    out = ("id", "name", "isFub2", "description", "defaultSmartListId")
    sorts = {"id": "id", "name": _NAME_SORT}
    return paginate(
        req,
        "smartlists",
        "smartlists",
        sorts=sorts,
        default_sort="id",
        serialize=lambda s: {k: s.get(k) for k in out},
        cursors=False,
    )


async def get_smart_list(req: Req) -> Response:
    smart_list = _get(req, "smartlists")
    return json_response({"id": smart_list["id"], "name": smart_list["name"]})


# --- action plans -----------------------------------------------------------------------------------

PLAN_OUT = ("id", "created", "updated", "name", "description", "status")
PLAN_PERSON_OUT = ("id", "created", "updated", "personId", "actionPlanId", "actionPlanName", "status")


async def list_action_plans(req: Req) -> Response:
    where: list[str] = []
    params: list[Any] = []
    common_filters(req, req.query, where, params)
    statuses = csv(req.q("status") or "Active")
    where.append(f"json_extract(data, '$.status') IN ({','.join('?' * len(statuses))})")
    params.extend(statuses)
    sorts = {**BASIC_SORTS, "name": _NAME_SORT}
    return paginate(
        req,
        "actionplans",
        "actionPlans",
        where=where,
        params=params,
        sorts=sorts,
        serialize=lambda p: {k: p.get(k) for k in PLAN_OUT},
    )


async def list_action_plan_people(req: Req) -> Response:
    where: list[str] = []
    params: list[Any] = []
    visible = visible_person_ids_sql(req)
    if visible:
        where.append(visible)
    common_filters(req, req.query, where, params)
    if req.q("personId"):
        where.append("person_id = ?")
        params.append(as_int(req.q("personId"), "personId"))
    if req.q("actionPlanId"):
        where.append("json_extract(data, '$.actionPlanId') = ?")
        params.append(as_int(req.q("actionPlanId"), "actionPlanId"))
    return paginate(
        req,
        "actionplanspeople",
        "actionPlansPeople",
        where=where,
        params=params,
        serialize=lambda r: {k: r.get(k) for k in PLAN_PERSON_OUT},
    )


async def add_action_plan_person(req: Req) -> Response:
    body = req.body()
    check_fields(body, {"personId", "actionPlanId"})
    require(body, "personId", "actionPlanId")
    person = person_exists(req, body["personId"])
    plan = req.sandbox.db.get("actionplans", as_int(body["actionPlanId"], "actionPlanId"))
    if plan is None or plan.get("status") != "Active":
        raise bad_request(f"Invalid actionPlanId: action plan {body['actionPlanId']} does not exist")
    running = req.sandbox.db.select(
        "actionplanspeople",
        "person_id = ? AND json_extract(data, '$.actionPlanId') = ? AND "
        "json_extract(data, '$.status') IN ('Running', 'Paused')",
        (person["id"], plan["id"]),
    )
    if running:  # ⚠️ FUB's behaviour for a repeat is undocumented
        raise bad_request("This person is already on this action plan")
    now = fmt_ts(req.sandbox.now())
    row = req.sandbox.db.insert(
        "actionplanspeople",
        {
            "created": now,
            "updated": now,
            "personId": person["id"],
            "actionPlanId": plan["id"],
            "actionPlanName": plan["name"],
            "status": "Running",
        },
    )
    return json_response({k: row.get(k) for k in PLAN_PERSON_OUT}, 201)


async def update_action_plan_person(req: Req) -> Response:
    row = _get(req, "actionplanspeople")
    get_person(req, row["personId"])
    body = req.body()
    check_fields(body, {"status"})
    if body.get("status") not in ("Running", "Paused"):
        raise bad_request("status must be Running or Paused")
    row.update(status=body["status"], updated=fmt_ts(req.sandbox.now()))
    req.sandbox.db.update("actionplanspeople", row)
    return json_response({k: row.get(k) for k in PLAN_PERSON_OUT})


# --- deals ------------------------------------------------------------------------------------------

DEAL_DATES = (
    "projectedCloseDate",
    "earnestMoneyDueDate",
    "mutualAcceptanceDate",
    "dueDiligenceDate",
    "finalWalkThroughDate",
    "possessionDate",
)
DEAL_FIELDS = {
    "name",
    "stageId",
    "description",
    "peopleIds",
    "userIds",
    "price",
    "orderWeight",
    "commissionValue",
    "agentCommission",
    "teamCommission",
    *DEAL_DATES,
}
DEAL_OUT = (
    "id",
    "name",
    "type",
    "status",
    "price",
    "pipelineId",
    "pipelineName",
    "stageId",
    "stageName",
    "enteredStageAt",
    "createdAt",
    "updated",
    "orderWeight",
    "description",
    "people",
    "users",
    "commissionValue",
    "agentCommission",
    "teamCommission",
    *DEAL_DATES,
)
DEAL_STATUSES = ("Active", "Archived", "Deleted")


def deal_out(deal: Mapping[str, Any]) -> dict[str, Any]:
    """A deal as FUB answers it: the documented fields, then its deal custom fields (`custom*`)."""
    return {**{k: deal.get(k) for k in DEAL_OUT}, **{k: v for k, v in deal.items() if k.startswith("custom")}}


def deal_custom_fields(req: Req) -> dict[str, dict[str, Any]]:
    """Deal custom fields by `name` (e.g. customClosePrice)."""
    return {f["name"]: f for f in req.sandbox.db.select("dealcustomfields")}


def _deal_visible(req: Req, deal: Mapping[str, Any]) -> bool:
    return (
        req.owner
        or req.user.get("role") == "Broker"
        or any(u.get("id") == req.user_id for u in deal.get("users") or [])
    )


async def list_deals(req: Req) -> Response:
    where: list[str] = []
    params: list[Any] = []
    common_filters(req, req.query, where, params, created="json_extract(data, '$.createdAt')")
    if not (req.owner or req.user.get("role") == "Broker"):
        where.append(
            f"EXISTS (SELECT 1 FROM json_each(deals.data, '$.users') u WHERE json_extract(u.value, '$.id') "
            f"= {req.user_id})"
        )
    if req.q("pipelineId"):
        where.append("json_extract(data, '$.pipelineId') = ?")
        params.append(as_int(req.q("pipelineId"), "pipelineId"))
    for key, path in (("userId", "users"), ("personId", "people")):
        if req.q(key):
            where.append(
                f"EXISTS (SELECT 1 FROM json_each(deals.data, '$.{path}') x WHERE "
                f"json_extract(x.value, '$.id') = ?)"
            )
            params.append(as_int(req.q(key), key))
    statuses = ["Active"]
    if req.q("status"):
        statuses = csv(req.q("status") or "")
        if any(s not in DEAL_STATUSES for s in statuses):
            raise bad_request(f"Invalid status. Valid: {', '.join(DEAL_STATUSES)}")
    else:
        if req.q("includeArchived") and as_bool(req.q("includeArchived"), "includeArchived"):
            statuses.append("Archived")
        if req.q("includeDeleted") and as_bool(req.q("includeDeleted"), "includeDeleted"):
            statuses.append("Deleted")
    where.append(f"json_extract(data, '$.status') IN ({','.join('?' * len(statuses))})")
    params.extend(statuses)
    sorts = {
        "id": "id",
        "created": "COALESCE(json_extract(data, '$.createdAt'), '')",
        "updated": BASIC_SORTS["updated"],
        "name": _NAME_SORT,
        "price": "COALESCE(json_extract(data, '$.price'), 0)",
        "orderWeight": _WEIGHT_SORT,
    }
    return paginate(req, "deals", "deals", where=where, params=params, sorts=sorts, serialize=deal_out)


def _load_deal(req: Req) -> dict[str, Any]:
    deal = _get(req, "deals")
    if not _deal_visible(req, deal):
        raise not_found()
    return deal


def _deal_fields(req: Req, deal: dict[str, Any], body: Mapping[str, Any]) -> None:
    for key in ("name", "description"):
        if key in body:
            if body[key] is not None and not isinstance(body[key], str):
                raise bad_request(f"Invalid {key}: expected a string")
            deal[key] = body[key]
    if "stageId" in body:
        pipeline, stage = deal_stage(req, body["stageId"])
        if stage["id"] != deal.get("stageId"):
            deal["enteredStageAt"] = fmt_ts(req.sandbox.now())
        deal.update(
            pipelineId=pipeline["id"],
            pipelineName=pipeline["name"],
            stageId=stage["id"],
            stageName=stage["name"],
        )
    if "peopleIds" in body:
        ids = body["peopleIds"] or []
        if not isinstance(ids, list):
            raise bad_request("peopleIds must be an array of person ids")
        deal["people"] = [
            {"id": p["id"], "name": p["name"]} for p in (person_exists(req, i, "peopleIds") for i in ids)
        ]
    if "userIds" in body:
        ids = body["userIds"] or []
        if not isinstance(ids, list):
            raise bad_request("userIds must be an array of user ids")
        deal["users"] = [
            {"id": u["id"], "name": u["name"]} for u in (user_by_id(req, i, "userIds") for i in ids)
        ]
    for key in ("price", "commissionValue", "agentCommission", "teamCommission"):
        if key in body:
            deal[key] = None if body[key] is None else as_number(body[key], key)
    if "orderWeight" in body:
        deal["orderWeight"] = as_int(body["orderWeight"], "orderWeight")
    for key in DEAL_DATES:
        if key in body:
            deal[key] = None if body[key] is None else parse_date(body[key], key)
    customs = deal_custom_fields(req)
    for key, value in body.items():
        if key in customs:
            deal[key] = custom_value(customs[key], value)
    if "status" in body:
        if body["status"] not in DEAL_STATUSES:
            raise bad_request(f"Invalid status. Valid: {', '.join(DEAL_STATUSES)}")
        deal["status"] = body["status"]


async def create_deal(req: Req) -> Response:
    body = req.body()
    check_fields(body, DEAL_FIELDS, custom=deal_custom_fields(req))  # the doc's old spellings agentCommision/teamComission -> 400, as FUB now
    require(body, "name", "stageId")
    now = fmt_ts(req.sandbox.now())
    deal: dict[str, Any] = {
        "name": "",
        "type": "Sale",
        "status": "Active",
        "price": None,
        "pipelineId": None,
        "pipelineName": None,
        "stageId": None,
        "stageName": None,
        "enteredStageAt": now,
        "createdAt": now,
        "updated": now,
        "orderWeight": 1000,
        "description": None,
        "people": [],
        "users": [],
        "commissionValue": None,
        "agentCommission": None,
        "teamCommission": None,
        **dict.fromkeys(DEAL_DATES),
    }
    _deal_fields(req, deal, body)
    deal["enteredStageAt"] = now
    deal = req.sandbox.db.insert("deals", deal)
    req.sandbox.emit("dealsCreated", [deal["id"]])
    return json_response(deal_out(deal), 201)


async def get_deal(req: Req) -> Response:
    return json_response(deal_out(_load_deal(req)))


async def update_deal(req: Req) -> Response:
    deal = _load_deal(req)
    body = req.body()
    check_fields(body, DEAL_FIELDS | {"status"}, custom=deal_custom_fields(req))
    _deal_fields(req, deal, body)
    deal["updated"] = fmt_ts(req.sandbox.now())
    req.sandbox.db.update("deals", deal)
    req.sandbox.emit("dealsUpdated", [deal["id"]])
    return json_response(deal_out(deal))


async def delete_deal(req: Req) -> Response:
    deal = _load_deal(req)
    deal.update(status="Deleted", updated=fmt_ts(req.sandbox.now()))
    req.sandbox.db.update("deals", deal)
    req.sandbox.emit("dealsDeleted", [deal["id"]])
    return no_content()


ACCOUNT_ROUTES = [
    ("/me", "GET", me),
    ("/identity", "GET", identity),
    ("/users", "GET", list_users),
    ("/users/{id:int}", "GET", get_user),
    ("/stages", "GET", list_stages),
    ("/stages/{id:int}", "GET", get_stage),
    ("/pipelines", "GET", list_pipelines),
    ("/pipelines/{id:int}", "GET", get_pipeline),
    ("/customFields", "GET", list_custom_fields),
    ("/customFields", "POST", create_custom_field),
    ("/customFields/{id:int}", "GET", get_custom_field),
    ("/dealCustomFields", "GET", list_deal_custom_fields),
    ("/dealCustomFields", "POST", create_deal_custom_field),
    ("/dealCustomFields/{id:int}", "GET", get_deal_custom_field),
    ("/smartLists", "GET", list_smart_lists),
    ("/smartLists/{id:int}", "GET", get_smart_list),
    ("/actionPlans", "GET", list_action_plans),
    ("/actionPlansPeople", "GET", list_action_plan_people),
    ("/actionPlansPeople", "POST", add_action_plan_person),
    ("/actionPlansPeople/{id:int}", "PUT", update_action_plan_person),
    ("/deals", "GET", list_deals),
    ("/deals", "POST", create_deal),
    ("/deals/{id:int}", "GET", get_deal),
    ("/deals/{id:int}", "PUT", update_deal),
    ("/deals/{id:int}", "DELETE", delete_deal),
]
