"""Time-based automations: the rule book, read by staff and kept by admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import CorrelationId, CurrentPrincipal, RuntimeDep, allowed, stamp_for
from api.problems import responses
from api.schemas.automations import (
    RuleChange,
    RuleIn,
    RuleOut,
    RulesOut,
)
from domain.automation import Rule
from domain.errors import NothingChanged

router = APIRouter(prefix="/v1/automations", tags=["automations"])

PROBLEMS = responses({404: "No such automation or group", 422: "Invalid rule"})
RuleId = Annotated[str, Path(max_length=63)]


def rule_out(rule: Rule) -> RuleOut:
    """A rule as its data says it, with what its firings carry as causation."""
    return RuleOut.model_validate({**rule.as_data(), "causation_id": rule.causation_id})


@router.get("", response_model=RulesOut, responses=PROBLEMS)
def list_automations(who: CurrentPrincipal, runtime: RuntimeDep) -> RulesOut:
    """Every rule, the shipped ones included (switched off until an admin enables them)."""
    allowed(who, "list_automations")
    return RulesOut(rules=[rule_out(r) for r in runtime.desk.automation_rules()])


@router.post(
    "",
    response_model=RuleOut,
    status_code=201,
    responses={**PROBLEMS, 409: {"description": "An automation with that id exists"}},
)
def add_automation(
    body: RuleIn, who: CurrentPrincipal, runtime: RuntimeDep, correlation_id: CorrelationId
) -> RuleOut:
    """A new rule, version 1."""
    allowed(who, "manage_automations")
    rule = runtime.desk.add_automation_rule(
        data=body.model_dump(exclude_none=True), stamp=stamp_for(who, correlation_id, None)
    )
    return rule_out(rule)


@router.get("/{rule_id}", response_model=RuleOut, responses=PROBLEMS)
def automation(rule_id: RuleId, who: CurrentPrincipal, runtime: RuntimeDep) -> RuleOut:
    allowed(who, "list_automations")
    return rule_out(runtime.desk.automation_rule(rule_id))


@router.patch("/{rule_id}", response_model=RuleOut, responses=PROBLEMS)
def change_automation(
    rule_id: RuleId,
    body: RuleChange,
    who: CurrentPrincipal,
    runtime: RuntimeDep,
    correlation_id: CorrelationId,
) -> RuleOut:
    """Switch a rule on or off, or change its name, conditions or actions (version + 1);
    sending what the rule already is changes nothing and answers it as it is."""
    allowed(who, "manage_automations")
    changes = body.model_dump(exclude_none=True)
    try:
        rule = runtime.desk.change_automation_rule(
            rule_id, changes=changes, stamp=stamp_for(who, correlation_id, None)
        )
    except NothingChanged:
        rule = runtime.desk.automation_rule(rule_id)
    return rule_out(rule)
