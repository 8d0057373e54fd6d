"""``Dashboard(read_only=True)`` (what ``nbtrack ui`` shows): browsing works, no action on a run
exists on the page, and the state refuses every action, leaving the store as it was."""

from __future__ import annotations

import pytest
from traitlets import TraitError

import nbtrack
from nbtrack.dashboards.widget import Dashboard

ACTION_WIDGETS = ("tag_text", "tag_button", "name_text", "rename_button", "note_text", "note_button",
                  "delete_button", "restore_button", "checkout_path", "checkout_button")


def _stored(run_id: str) -> tuple:
    run = nbtrack.get_run(run_id)
    return run.name, dict(run.tags), run.notes, run.deleted


def test_a_read_only_dashboard_browses_but_changes_nothing(runs12, tmp_path):
    board = Dashboard("exp", read_only=True)
    state = board.state
    target = runs12[3]
    before = _stored(target)

    # browsing: filter, sort, page, select, detail
    state.filter_text = "params.model = 'rf'"
    assert state.total == 6 and not state.filter_error
    state.sort_on("metrics.acc")
    assert state.rows[0]["name"] == "run-10"
    state.selected = [runs12[0], runs12[2]]
    state.detail_run_id = target
    assert "run-03" in board.detail.html.value

    # no action on the page, and their widgets are closed (the kernel no longer listens to them)
    assert board.detail.actions not in board.detail.children
    for name in ACTION_WIDGETS:
        assert getattr(board.detail, name).comm is None, name

    # a click that reached the kernel anyway, and every state action: refused, said, nothing written
    board.detail.delete_button.click()
    for refused in (state.rename(target, "renamed"), state.tag(target, "k=v"), state.note(target, "a note"),
                    state.delete(target), state.restore(target), state.checkout(target, str(tmp_path))):
        assert refused is False
        assert state.message_is_error and "read-only" in state.message
    assert _stored(target) == before
    assert list(tmp_path.glob("*.ipynb")) == []
    with pytest.raises(TraitError, match="stays read-only"):
        state.read_only = False


def test_an_ordinary_dashboard_keeps_its_actions(runs12):
    board = Dashboard("exp")
    board.state.detail_run_id = runs12[0]
    assert board.detail.actions in board.detail.children
    assert board.state.rename(runs12[0], "renamed")
    assert nbtrack.get_run(runs12[0]).name == "renamed"
