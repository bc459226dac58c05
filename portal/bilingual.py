"""What the OPCC types in English and, where given, in Welsh: shown in the reader's language.

The Welsh Language Standards (Welsh Language (Wales) Measure 2011; the Commissioners of the four
Welsh police areas work under them) ask that a service in Welsh treat Welsh no less favourably
than English. Whatever the OPCC types for applicants and the public (the service's name, fund
and round names and guidance, criteria, the questions of its forms) has a Welsh field beside
the English: ``name`` and ``name_cy``, ``guidance`` and ``guidance_cy``, ``SERVICE_NAME`` and
``SERVICE_NAME_CY`` (issue 16). A Welsh reader sees the Welsh where it is given; where it is
not, the English, and a page marks that English with ``lang="en"`` on its element so that a
screen reader reads it as English (WCAG 2.2, 3.1.2 Language of Parts).

- :func:`text` and :func:`config_text` give plain text (page titles, emails, exports, form
  choices);
- :func:`marked` and :func:`config_marked` give escaped markup for a page, the English
  fallback wrapped in ``<span lang="en">`` (``<div lang="en">`` for ``block=True``);
- :func:`paragraphs` gives text a user typed as GOV.UK paragraphs, likewise marked.

Markup must not be joined to text with Jinja's ``~`` (that makes it text again, escaped
later): pass it whole, or use :func:`text`.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context
from flask_babel import get_locale
from markupsafe import Markup, escape

from portal.formatting import paragraphs as _paragraphs

WELSH = "cy"
LANGUAGES = ("en", "cy")


def welsh_wanted() -> bool:
    """Whether the locale in force (the reader's, or an email's) is Welsh."""
    locale = get_locale() if has_app_context() else None
    return locale is not None and locale.language == WELSH


def chosen(english: str | None, welsh: str | None) -> tuple[str, bool]:
    """The text to show and whether it is English shown to a Welsh reader (a fallback)."""
    english = english or ""
    if welsh_wanted():
        if welsh and welsh.strip():
            return welsh, False
        return english, bool(english.strip())
    return english, False


def pick(english: str | None, welsh: str | None) -> str:
    """The Welsh when the reader is Welsh and it is given, else the English; plain text."""
    return chosen(english, welsh)[0]


def mark(english: str | None, welsh: str | None, *, block: bool = False) -> Markup:
    """:func:`pick`, escaped, its English fallback marked ``lang="en"`` for a Welsh reader."""
    shown, fallback = chosen(english, welsh)
    if not fallback:
        return escape(shown)
    tag = "div" if block else "span"
    return Markup(f'<{tag} lang="en">{escape(shown)}</{tag}>')


def text(obj: Any, field: str) -> str:
    """``obj.<field>`` or, for a Welsh reader, ``obj.<field>_cy`` when given."""
    return pick(getattr(obj, field), getattr(obj, f"{field}_cy", ""))


def marked(obj: Any, field: str, *, block: bool = False) -> Markup:
    """:func:`text`, escaped, the English fallback marked ``lang="en"``."""
    return mark(getattr(obj, field), getattr(obj, f"{field}_cy", ""), block=block)


def paragraphs(obj: Any, field: str, otherwise: str = "") -> Markup:
    """:func:`text` as GOV.UK paragraphs (one per line), in a ``<div lang="en">`` when it is
    the English shown to a Welsh reader; ``otherwise`` when there is none."""
    shown, fallback = chosen(getattr(obj, field), getattr(obj, f"{field}_cy", ""))
    body = _paragraphs(shown, otherwise)
    return Markup(f'<div lang="en">{body}</div>') if fallback else body


def config_text(key: str) -> str:
    """The app setting ``key`` (e.g. ``SERVICE_NAME``) or, for a Welsh reader, ``<key>_CY``."""
    config = current_app.config
    return pick(config.get(key, ""), config.get(f"{key}_CY", ""))


def config_marked(key: str) -> Markup:
    """:func:`config_text`, escaped, its English fallback marked ``lang="en"``."""
    config = current_app.config
    return mark(config.get(key, ""), config.get(f"{key}_CY", ""))


def english(value: str | None) -> Markup:
    """Text known to be English (e.g. an English-only name the OPCC typed), escaped, and
    marked ``lang="en"`` for a Welsh reader."""
    return mark(value, "")


def sentence(translated: str, **values: object) -> Markup:
    """A message translated with its ``%(name)s`` placeholders left open (``_("…")`` given no
    values), filled with ``values``: escaped, but markup such as :func:`marked`'s kept, so a
    Welsh sentence naming a record whose Welsh is not given marks its English ``lang="en"``
    (a flash: "Newidiadau i “<span lang="en">Safer Communities Fund</span>” wedi’u cadw")."""
    return Markup(escape(translated)) % values


def init_app(app: Any) -> None:
    """Jinja globals: ``cy_text(obj, "name")``, ``cy_marked(obj, "name", block=False)``,
    ``cy_paragraphs(obj, "guidance")``, ``setting("SERVICE_NAME")`` and
    ``setting_marked("SERVICE_NAME")``, ``in_english(text)``."""
    app.add_template_global(text, "cy_text")
    app.add_template_global(marked, "cy_marked")
    app.add_template_global(paragraphs, "cy_paragraphs")
    app.add_template_global(config_text, "setting")
    app.add_template_global(config_marked, "setting_marked")
    app.add_template_global(english, "in_english")
