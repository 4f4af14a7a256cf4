"""How a rebuild deals the views into groups, one process each."""

from __future__ import annotations

from collections.abc import Sequence

from projections.catalog import VIEWS
from projections.kit import View
from replay.spread import COST, SMALL, deal


def cost(group: Sequence[View]) -> float:
    return sum(COST.get(v.name, SMALL) for v in group)


def test_every_view_is_in_exactly_one_group_and_no_group_is_empty() -> None:
    for processes in (1, 2, 3, 4, 8, 40):
        groups = deal(list(VIEWS.values()), processes)
        names = [v.name for g in groups for v in g]
        assert sorted(names) == sorted(VIEWS)
        assert len(groups) == min(processes, len(VIEWS)) and all(groups)


def test_the_groups_cost_about_the_same_and_the_costliest_views_are_apart() -> None:
    groups = deal(list(VIEWS.values()), 2)
    costs = sorted(cost(g) for g in groups)
    assert costs[1] - costs[0] <= max(COST.values())
    four = deal(list(VIEWS.values()), 4)
    costliest = sorted(COST, key=lambda n: -COST[n])[:4]
    homes = {n: i for i, g in enumerate(four) for v in g if (n := v.name) in costliest}
    assert len(set(homes.values())) == 4
