"""Driver diagram graph rules, the editor's history and optimistic locking, the layout and SVG."""

from __future__ import annotations

from itertools import pairwise

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from spreadscale.web.core.models import Event, Programme
from spreadscale.web.improvement import actions, diagram
from spreadscale.web.improvement.models import DriverNode
from spreadscale.web.measurement.models import Measure


def _node(programme, text) -> DriverNode:
    return DriverNode.objects.get(programme=programme, text__startswith=text)


def test_the_demo_diagram_is_an_aim_with_three_primary_and_six_secondary_drivers(programme):
    kinds = list(
        DriverNode.objects.filter(programme=programme, site=None).values_list("kind", flat=True)
    )
    assert kinds.count("aim") == 1 and kinds.count("primary") == 3 and kinds.count("secondary") == 6


def test_a_node_can_have_several_parents(programme, user):
    parents = [_node(programme, "Reliable, sterile"), _node(programme, "Reliable daily")]
    node = actions.add_node(
        user("lead"), programme, kind="secondary", text="Line packs", parents=parents
    )
    assert set(node.parents.all()) == set(parents)
    assert Event.objects.filter(verb="driver_node.added", object_id=str(node.pk)).exists()


def test_a_parent_that_sits_below_the_node_is_refused_as_a_loop(programme, user):
    primary = _node(programme, "Reliable daily")
    upper = actions.add_node(
        user("lead"), programme, kind="secondary", text="Upper", parents=[primary]
    )
    lower = actions.add_node(
        user("lead"), programme, kind="secondary", text="Lower", parents=[upper]
    )
    with pytest.raises(ValidationError) as exc:
        actions.edit_node(user("lead"), upper, expected_version=upper.version, parents=[lower])
    assert "loop" in exc.value.message_dict["parents"][0]
    assert list(upper.parents.all()) == [primary]


def test_a_node_cannot_be_its_own_parent(programme, user):
    node = _node(programme, "Everything needed")
    with pytest.raises(ValidationError) as exc:
        actions.edit_node(user("lead"), node, expected_version=node.version, parents=[node])
    assert "parents" in exc.value.message_dict


def test_a_primary_driver_cannot_hang_under_a_secondary_driver(programme, user):
    with pytest.raises(ValidationError) as exc:
        actions.add_node(
            user("lead"),
            programme,
            kind="primary",
            text="x",
            parents=[_node(programme, "Everything needed")],
        )
    assert "cannot sit under" in exc.value.message_dict["parents"][0]


def test_a_driver_needs_something_to_contribute_to_and_a_second_aim_is_refused(programme, user):
    with pytest.raises(ValidationError) as exc:
        actions.add_node(user("lead"), programme, kind="secondary", text="Orphan")
    assert "parents" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        actions.add_node(user("lead"), programme, kind="aim", text="Another aim")
    assert "kind" in exc.value.message_dict


def test_a_measure_of_another_programme_cannot_be_attached(programme, user):
    other = Programme.objects.create(name="Other", slug="other-dd")
    foreign = Measure.objects.create(
        programme=other, name="Falls", slug="falls", type="outcome", data_kind="count",
        improvement="decrease", default_chart="c",
    )  # fmt: skip
    node = _node(programme, "Everything needed")
    with pytest.raises(ValidationError) as exc:
        actions.edit_node(user("lead"), node, expected_version=node.version, measures=[foreign])
    assert "another programme" in exc.value.message_dict["measures"][0]


def test_rewording_keeps_the_old_wording_and_a_stale_edit_is_refused(programme, user):
    node = _node(programme, "Chlorhexidine for skin")
    version = node.version
    actions.edit_node(user("lead"), node, expected_version=version, text="Chlorhexidine everywhere")
    assert node.revisions.first().text.startswith("Chlorhexidine for skin")
    with pytest.raises(ValidationError) as exc:
        actions.edit_node(user("lead"), node, expected_version=version, text="Someone else's words")
    assert "changed by someone else" in exc.value.messages[0]
    node.refresh_from_db()
    assert node.text == "Chlorhexidine everywhere"


def test_retiring_a_node_that_is_the_only_parent_of_another_is_refused(programme, user):
    node = _node(programme, "Reliable daily")  # the daily-review driver hangs only under it
    with pytest.raises(ValidationError) as exc:
        actions.edit_node(user("lead"), node, expected_version=node.version, retired=True)
    assert "retired" in exc.value.message_dict


def test_a_retired_node_leaves_the_picture_but_keeps_its_history(programme, user):
    node = actions.add_node(
        user("lead"),
        programme,
        kind="secondary",
        text="Short-lived idea",
        parents=[_node(programme, "A unit culture")],
    )
    actions.edit_node(user("lead"), node, expected_version=node.version, retired=True)
    assert "Short-lived idea" not in diagram.svg(diagram.load(programme))
    assert node.revisions.count() == 1
    assert Event.objects.filter(verb="driver_node.retired", object_id=str(node.pk)).exists()


def test_the_layout_puts_ideas_in_the_last_column_and_children_right_of_parents(programme):
    d = diagram.load(programme)
    for box in d.boxes.values():
        for p in box.parents:
            assert d.boxes[p].layer < box.layer
    last = len(d.columns) - 1
    assert {d.boxes[k].kind for k in d.columns[last]} == {"idea"}


def test_the_outline_lists_a_node_with_two_parents_once_in_full(programme):
    d = diagram.load(programme)
    seen = []

    def walk(items):
        for item in items:
            if not item["again"]:
                seen.append(item["box"].key)
            walk(item["children"])

    walk(diagram.outline(d))
    assert sorted(seen) == sorted(d.boxes)


def test_the_svg_escapes_text(programme, user):
    actions.add_node(
        user("lead"), programme, kind="primary", text="<script>alert(1)</script> & co",
        parents=[DriverNode.objects.get(programme=programme, kind="aim", site=None)],
    )  # fmt: skip
    svg = diagram.svg(diagram.load(programme))
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_the_editor_refuses_a_loop_with_a_message_naming_the_field(programme, client_for):
    node = _node(programme, "Reliable, sterile")
    child = _node(programme, "Everything needed")
    response = client_for("lead").post(
        reverse("node_edit", kwargs={"slug": "clabsi", "node_id": node.pk}),
        {
            f"node{node.pk}-text": node.text,
            f"node{node.pk}-parents": [child.pk],
            f"node{node.pk}-order": node.order,
            f"node{node.pk}-version": node.version,
        },
    )
    assert response.status_code == 422
    assert "Contributes to: " in response.content.decode()


def test_a_site_team_adds_a_node_to_its_own_diagram_but_not_to_the_programme(
    programme, client_for, site
):
    parent = _node(programme, "A unit culture")
    data = {"add-kind": "secondary", "add-text": "Huddle at 8", "add-parents": [parent.pk]}
    url = reverse("node_add", kwargs={"slug": "clabsi"})
    assert client_for("site_a").post(url, data).status_code == 403
    response = client_for("site_a").post(url, {**data, "site": "RA1-GICU"})
    assert response.status_code == 302
    assert DriverNode.objects.get(text="Huddle at 8").site == site("RA1-GICU")
    # another site's diagram is out of site_b's reach altogether
    assert client_for("site_b").post(url, {**data, "site": "RA1-GICU"}).status_code == 404
    assert client_for("evaluator").post(url, {**data, "site": "RA1-GICU"}).status_code == 403


@st.composite
def _dags(draw):
    """Boxes in an order where every parent comes earlier and ranks no lower: always acyclic."""
    order = ["primary", "secondary", "idea"]
    drawn = draw(st.lists(st.sampled_from(order), min_size=1, max_size=14))
    kinds = ["aim", *sorted(drawn, key=order.index)]
    rank = {"aim": 0, "primary": 1, "secondary": 2, "idea": 3}
    boxes = {}
    for i, kind in enumerate(kinds):
        allowed = [k for k, b in boxes.items() if rank[b.kind] <= rank[kind] and b.kind != "idea"]
        parents = (
            draw(st.lists(st.sampled_from(allowed), min_size=1, unique=True)) if allowed else []
        )
        boxes[f"b{i}"] = diagram.Box(f"b{i}", kind, draw(st.text(max_size=60)), i, parents)
    return boxes


@given(_dags())
@settings(max_examples=60, deadline=None)
def test_the_layout_always_places_children_right_of_parents_without_overlaps(boxes):
    d = diagram.layout("t", boxes)
    assert sorted(k for col in d.columns for k in col) == sorted(boxes)
    for box in d.boxes.values():
        assert all(d.boxes[p].layer < box.layer for p in box.parents)
    for col in d.columns:
        spans = sorted((d.boxes[k].y, d.boxes[k].y + d.boxes[k].height) for k in col)
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in pairwise(spans))
    ideas = {b.layer for b in d.boxes.values() if b.kind == "idea"}
    assert len(ideas) <= 1 and all(i == len(d.columns) - 1 for i in ideas)
    assert diagram.svg(d).count("<rect") == len(boxes) + 1
