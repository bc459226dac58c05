"""What a save of a bid's section changed, in the words of its questions (issue 15, "the bid's
history shows what changed"): the labels of the questions whose answers differ, which the
``bid.section_saved`` audit event records (``changed``) and the history shows.

Only the definition is read (no database): a question's answer is compared part by part (a
built-in question's parts: the budget's lines and match funding, the declarations' boxes,
name and role), so a save that changed nothing lists nothing, and a label is listed once.
"""

from __future__ import annotations

from typing import Any

from portal import questions


def _same(before: Any, after: Any) -> bool:
    """Equal answers, an empty one (missing, blank, no choice, unticked) equal to another."""
    if _empty(before) and _empty(after):
        return True
    return bool(before == after)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def questions_changed(section: questions.Section, before: dict[str, Any] | None,
                      after: dict[str, Any] | None) -> list[str]:
    """The labels (as stored in the definition) of ``section``'s questions whose answers
    differ between ``before`` and ``after`` (its saved answers, by answer name), in the
    form's order. The project's dates name the date that changed (its start or end label);
    a question without a label is named by its key."""
    before, after = before or {}, after or {}
    labels: list[str] = []

    def add(label: str) -> None:
        if label not in labels:
            labels.append(label)

    for question in section.questions:
        if question.type == "project_dates":
            if not _same(before.get("start_date"), after.get("start_date")):
                add(question.label or "start_date")
            if not _same(before.get("end_date"), after.get("end_date")):
                add(question.end_label or "end_date")
            continue
        if any(not _same(before.get(part), after.get(part)) for part in question.parts):
            add(question.label or question.key)
    return labels
