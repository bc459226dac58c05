"""What arrives in a request, before any view reads it.

NUL characters are taken out of every form field and query parameter: no text a person
types contains one, PostgreSQL cannot store one in a text column (the driver raises), and a
value that differs between the two databases is worse than one without it.
"""

from __future__ import annotations

from typing import Any

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.utils import cached_property


def _without_nul(values: MultiDict[str, Any]) -> ImmutableMultiDict[str, Any]:
    return ImmutableMultiDict(
        (key.replace("\x00", ""), value.replace("\x00", "") if isinstance(value, str) else value)
        for key, value in values.items(multi=True))


class PortalRequest(Request):
    def _load_form_data(self) -> None:
        super()._load_form_data()
        self.__dict__["form"] = _without_nul(self.__dict__["form"])

    @cached_property
    def args(self) -> ImmutableMultiDict[str, str]:
        return _without_nul(super().args)
