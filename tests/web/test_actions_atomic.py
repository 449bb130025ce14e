"""Every action that records an Event writes in one transaction, so a failure part-way leaves
nothing half-written (the event log and the data it describes move together)."""

from __future__ import annotations

import ast
from pathlib import Path
from unittest import mock

import pytest

WEB = Path(__file__).resolve().parents[2] / "src" / "spreadscale" / "web"
ACTIONS = sorted(WEB.glob("*/actions.py"))


def _is_atomic(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return isinstance(target, ast.Attribute) and target.attr == "atomic"


def _writes_events(fn: ast.FunctionDef) -> bool:
    return any(
        isinstance(n, ast.Call) and getattr(n.func, "id", None) == "record_event"
        for n in ast.walk(fn)
    )


def _in_transaction(fn: ast.FunctionDef) -> bool:
    if any(_is_atomic(d) for d in fn.decorator_list):
        return True
    return any(
        isinstance(n, ast.With) and any(_is_atomic(item.context_expr) for item in n.items)
        for n in fn.body
    )


def test_the_actions_modules_are_found():
    assert {p.parent.name for p in ACTIONS} >= {"core", "measurement", "improvement", "fidelity"}


@pytest.mark.parametrize("path", ACTIONS, ids=lambda p: p.parent.name)
def test_every_public_action_that_records_an_event_is_atomic(path):
    tree = ast.parse(path.read_text())
    bare = [
        fn.name
        for fn in tree.body
        if isinstance(fn, ast.FunctionDef)
        and not fn.name.startswith("_")
        and fn.name != "record_event"
        and _writes_events(fn)
        and not _in_transaction(fn)
    ]
    assert not bare, f"{path.parent.name}/actions.py: not in a transaction: {bare}"


def test_a_failing_event_write_leaves_a_driver_node_edit_unwritten(programme, user):
    from spreadscale.web.improvement import actions
    from spreadscale.web.improvement.models import DriverNode

    node = DriverNode.objects.filter(programme=programme).first()
    text, version = node.text, node.version
    with (
        mock.patch.object(actions, "record_event", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        actions.edit_node(user("lead"), node, expected_version=version, text="Half written")
    stored = DriverNode.objects.get(pk=node.pk)
    assert (stored.text, stored.version) == (text, version)
    assert not stored.revisions.filter(version=version).exists()
