"""Our copies of GOV.UK Frontend's component macros (templates/govuk_frontend_jinja/components/)
differ from govuk-frontend-jinja's only where an English default is given to the catalogue
(issue 16). When the package changes a macro, this fails until the copy is taken again from
the new version (and its defaults passed through ``_()`` again), so the copy never drifts
from the library behind it."""

from __future__ import annotations

import re
from pathlib import Path

import govuk_frontend_jinja
import pytest

OURS = Path(__file__).resolve().parents[2] / "templates" / "govuk_frontend_jinja" / "components"
THEIRS = Path(govuk_frontend_jinja.__file__).resolve().parent / "templates" / "components"
COPIES = sorted(OURS.glob("*/macro.html"))


def test_there_are_copies_to_check():
    assert COPIES


@pytest.mark.parametrize("ours", COPIES, ids=lambda path: path.parent.name)
def test_a_copy_differs_from_the_package_only_where_it_translates(ours: Path):
    theirs = (THEIRS / ours.parent.name / "macro.html").read_text("utf-8").splitlines()
    mine = re.sub(r"\A\{#-.*?-#\}\n", "", ours.read_text("utf-8"), flags=re.S).splitlines()
    assert len(mine) == len(theirs), "the package's macro changed: copy it again"
    changed = [(number, line) for number, (line, original) in enumerate(zip(mine, theirs), 1)
               if line != original]
    assert changed, "a copy that changes nothing should be deleted"
    untranslated = [f"{number}: {line}" for number, line in changed if "_(" not in line]
    assert not untranslated, untranslated
