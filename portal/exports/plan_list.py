"""The board's list of grants by section of the Police and Crime Plan as files (issue 18).

- CSV: one row per grant, rectangular (no total rows: a program sums the rows itself), its
  section's code and name and the plan's title, in English whatever the reader's language
  (as every CSV: ``tables.csv_chunks``), text through the formula guard, money in pounds.
- Workbook: one sheet for people, in the reader's language: the grants under each section,
  a total row after each section and the overall total at the end; money as pounds with a
  currency format, text always written as text (never a formula or a link).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import xlsxwriter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import bilingual
from portal.exports.tables import Column, Kind, Table
from portal.formatting import pence_to_pounds
from portal.services.plan_report import PlanList

PLAN_LIST = Table("plan-list", _l("Grants by plan section"), (
    Column("section_code", _l("Section code"), width=10),
    Column("section", _l("Section of the Police and Crime Plan"), width=36),
    Column("plan", _l("Police and Crime Plan"), width=30),
    Column("reference", _l("Reference"), width=16),
    Column("partnership", _l("Recipient"), width=30),
    Column("purpose", _l("Purpose"), width=50),
    Column("fund", _l("Fund"), width=8),
    Column("amount_pence", _l("Amount"), Kind.MONEY, 14),
))


def csv_rows(found: PlanList) -> Iterator[dict[str, Any]]:
    """One mapping per grant, keyed by ``PLAN_LIST``'s columns, in the list's order (English
    names: a CSV is for programs). A grant aligned to no section has empty section cells."""
    for group in found.groups:
        section = group.section
        plan = section.plan_title or (found.plan_title if section.id is not None else "")
        for grant in group.grants:
            yield {"section_code": section.code, "section": section.name, "plan": plan,
                   "reference": grant.reference, "partnership": grant.partnership,
                   "purpose": grant.purpose, "fund": grant.fund,
                   "amount_pence": grant.amount_pence}


def write_workbook(target: str | IO[bytes], found: PlanList, title: str) -> None:
    """The list as one sheet: ``title`` on the first row, then the headings; under each
    section a row per grant (the section's label, reference, recipient, purpose, fund and
    amount) and a total row; the overall total last."""
    # Rows are written in order, so constant-memory mode serves as for the other exports.
    workbook = xlsxwriter.Workbook(target, {"constant_memory": True,
                                            "strings_to_formulas": False,
                                            "strings_to_urls": False})
    bold = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    money = workbook.add_format({"num_format": "£#,##0.00", "valign": "top"})
    total = workbook.add_format({"num_format": "£#,##0.00", "bold": True, "top": 1})
    total_text = workbook.add_format({"bold": True, "top": 1})
    sheet = workbook.add_worksheet(str(PLAN_LIST.title))
    headings = [_("Section of the Police and Crime Plan"), _("Reference"), _("Recipient"),
                _("Purpose"), _("Fund"), _("Amount")]
    for col, width in enumerate((36, 16, 30, 50, 10, 16)):
        sheet.set_column(col, col, width)
    sheet.write_string(0, 0, title, bold)
    for col, heading in enumerate(headings):
        sheet.write_string(2, col, heading, bold)
    sheet.freeze_panes(3, 0)
    row = 3
    for group in found.groups:
        label = group.section.label()
        for grant in group.grants:
            sheet.write_string(row, 0, label, wrap)
            sheet.write_string(row, 1, grant.reference, wrap)
            sheet.write_string(row, 2, bilingual.pick(grant.partnership,
                                                      grant.partnership_cy), wrap)
            sheet.write_string(row, 3, grant.purpose, wrap)
            sheet.write_string(row, 4, grant.fund, wrap)
            sheet.write_number(row, 5, pence_to_pounds(grant.amount_pence), money)
            row += 1
        for col in range(5):
            sheet.write_string(row, col, _("Total for %(section)s", section=label)
                               if col == 0 else "", total_text)
        sheet.write_number(row, 5, pence_to_pounds(group.total_pence), total)
        row += 2
    for col in range(5):
        sheet.write_string(row, col, _("Total for all sections") if col == 0 else "",
                           total_text)
    sheet.write_number(row, 5, pence_to_pounds(found.total_pence), total)
    workbook.close()
