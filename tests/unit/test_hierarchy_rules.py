"""The pure parts of hierarchies: field rules, new ids for copies, job input, HTTP answers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from pxm_jobs.api.hierarchies.errors import to_api_error
from pxm_jobs.api.hierarchies.rendering import render_hierarchy, render_node
from pxm_jobs.catalog.hierarchies.duplicate import CopyRequest, pair_new_ids
from pxm_jobs.catalog.hierarchies.errors import (
    HierarchyNotFound,
    InvalidCatalogField,
    NodeCycle,
    NodeNotFound,
    SiblingConflict,
    UnknownProducts,
)
from pxm_jobs.catalog.hierarchies.nodes import Node
from pxm_jobs.catalog.hierarchies.queries import Hierarchy
from pxm_jobs.catalog.hierarchies.rules import (
    HIERARCHY_FIELDS,
    NAME_MAX_LENGTH,
    NODE_FIELDS,
    SORT_ORDER_MAX,
    check_fields,
    check_locales,
    check_name,
    check_slug,
    check_sort_order,
)

T0 = datetime(2024, 1, 5, 13, 46, 41, 695000, tzinfo=UTC)


@pytest.mark.parametrize("name", ["Shoes", "É" * NAME_MAX_LENGTH, " padded "])
def test_names_that_are_fine(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", [None, "", "   ", 7, "x" * (NAME_MAX_LENGTH + 1)])
def test_names_that_are_refused(name: object) -> None:
    with pytest.raises(InvalidCatalogField) as refused:
        check_name(name)
    assert refused.value.field == "name"


@pytest.mark.parametrize("slug", [None, "a", "Major-Appliances_MA0.v2"])
def test_slugs_that_are_fine(slug: str | None) -> None:
    assert check_slug(slug) == slug


@pytest.mark.parametrize("slug", ["", "has space", "a/b", "ünï", "x" * 256, 12])
def test_slugs_that_are_refused(slug: object) -> None:
    with pytest.raises(InvalidCatalogField):
        check_slug(slug)


@pytest.mark.parametrize("value", [None, 0, -3, SORT_ORDER_MAX])
def test_sort_orders_that_are_fine(value: int | None) -> None:
    assert check_sort_order(value) == value


@pytest.mark.parametrize("value", [True, 1.5, "3", SORT_ORDER_MAX + 1])
def test_sort_orders_that_are_refused(value: object) -> None:
    with pytest.raises(InvalidCatalogField):
        check_sort_order(value)


def test_locales_map_codes_to_objects() -> None:
    assert check_locales({"fr-FR": {"name": "Chaussures"}}) == {"fr-FR": {"name": "Chaussures"}}
    assert check_locales(None) is None
    for bad in (["fr-FR"], {"fr-FR": "Chaussures"}):
        with pytest.raises(InvalidCatalogField):
            check_locales(bad)


def test_fields_are_checked_and_unknown_ones_refused() -> None:
    assert check_fields({"name": "A", "sort_order": 2}, NODE_FIELDS) == {
        "name": "A",
        "sort_order": 2,
    }
    with pytest.raises(InvalidCatalogField) as refused:
        check_fields({"name": "A", "sort_order": 2}, HIERARCHY_FIELDS)
    assert refused.value.field == "sort_order"


def test_new_ids_are_fresh_uuids_in_the_order_of_the_old_ones() -> None:
    old = [str(uuid.uuid4()) for _ in range(200)]
    pairs = pair_new_ids(old)
    assert sorted(old_id for old_id, _ in pairs) == sorted(old)
    new = [new_id for _, new_id in pairs]
    assert new == sorted(new), "both sides sorted alike"
    assert len(set(new) | set(old)) == 400
    assert all(uuid.UUID(new_id).version == 4 for new_id in new)
    assert pair_new_ids([]) == []


def test_a_copy_request_survives_the_trip_through_a_job_input() -> None:
    request = CopyRequest("source", "target", {"name": "Copy", "description": None}, True)
    job_input = request.to_job_input()
    assert job_input["source_hierarchy_id"] == "source" and job_input["hierarchy_id"] == "target"
    assert CopyRequest.from_job_input(job_input) == request
    plain = CopyRequest.from_job_input({"source_hierarchy_id": "s", "hierarchy_id": "t"})
    assert plain == CopyRequest("s", "t", {}, False)


def test_path_ids_not_found_are_404s_and_other_refusals_422s() -> None:
    assert to_api_error(HierarchyNotFound()).status == 404
    assert to_api_error(NodeNotFound()).status == 404
    for error in (
        InvalidCatalogField("name", "bad"),
        NodeCycle("a", "a"),
        SiblingConflict("slug", "shoes", "b"),
    ):
        answer = to_api_error(error)
        assert answer.status == 422 and answer.title == "Failed Validation"
        assert answer.detail == error.detail
    unknown = to_api_error(UnknownProducts(["p1", "p2"]))
    assert unknown.meta == {"missing_ids": ["p1", "p2"]}
    assert "p1, p2" in unknown.detail


def test_a_node_renders_its_parent_links_and_sort_order() -> None:
    node = Node("n", "s", "h", "p", "Trail", None, "trail", None, 3, T0, T0)
    resource = render_node(node)
    assert resource["attributes"] == {"name": "Trail", "slug": "trail"}
    assert resource["relationships"]["parent"] == {"data": {"type": "node", "id": "p"}}
    assert resource["relationships"]["children"]["links"]["related"] == (
        "/pcm/hierarchies/h/nodes/n/children"
    )
    assert resource["meta"]["sort_order"] == 3
    assert resource["meta"]["created_at"] == "2024-01-05T13:46:41.695Z"
    top = render_node(Node("n", "s", "h", None, "Top", "d", None, None, None, T0, T0))
    assert "parent" not in top["relationships"] and "sort_order" not in top["meta"]


def test_a_hierarchy_renders_with_owner_and_children_link() -> None:
    resource = render_hierarchy(Hierarchy("h", "s", "Catalog", "All", None, {}, T0, T0))
    assert resource["attributes"] == {"name": "Catalog", "description": "All"}
    assert resource["meta"]["owner"] == "store"
    assert (
        resource["relationships"]["children"]["links"]["related"] == "/pcm/hierarchies/h/children"
    )
