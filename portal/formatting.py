"""Money in pence and dates shown the en_GB way (or the user's locale), and the GOV.UK markup
the portal writes in Python (tags, paragraphs, the page frame's components).

Babel's formatters parse a pattern and look up locale data on every call, which costs tens
of microseconds each and adds up on a long table. The formats used here are fixed, so the
locale data is read once per locale and the values are put together directly; a unit test
checks the results equal Babel's for both locales over many values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale
from flask import Flask
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from portal.db import UK


def pence_to_pounds(pence: int) -> Decimal:
    return (Decimal(pence) / 100).quantize(Decimal("0.01"))


def money(pence: int | None) -> str:
    """1234567 -> '£12,345.67' (the same in English and Welsh; never through a float)."""
    if pence is None:
        return ""
    pounds, pennies = divmod(abs(pence), 100)
    return f"{'-' if pence < 0 else ''}£{pounds:,}.{pennies:02d}"


@lru_cache(maxsize=8)
def _names(locale: str) -> tuple[dict[int, str], str, str]:
    """Month names and the am/pm markers of ``locale``, as Babel's patterns use them."""
    data = Locale.parse(locale)
    periods = data.day_periods["format"]["abbreviated"]
    return dict(data.months["format"]["wide"]), periods["am"], periods["pm"]


def _locale() -> str:
    return str(get_locale() or "en_GB")


def _uk_time(value: datetime) -> datetime:
    if value.tzinfo is None:  # as Babel does: a naive time is UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UK)


def _uk(value: date | datetime) -> date | datetime:
    return _uk_time(value) if isinstance(value, datetime) else value


def long_date(value: date | datetime | None) -> str:
    """'12 June 2025' (in UK time for datetimes)."""
    if value is None:
        return ""
    day = _uk(value)
    return f"{day.day} {_names(_locale())[0][day.month]} {day.year}"


def _time(value: datetime) -> str:
    """'5:30pm', '12:05am'."""
    _months, am, pm = _names(_locale())
    hour = value.hour % 12 or 12
    return f"{hour}:{value.minute:02d}{am if value.hour < 12 else pm}".lower()


def date_time(value: datetime | None) -> str:
    """'12 June 2025 at 5:00pm' in UK time, as GOV.UK writes times."""
    if value is None:
        return ""
    moment = _uk_time(value)
    day = long_date(moment)
    hour = _time(moment)
    if hour == "12:00am":
        return _("%(day)s at midnight", day=day)
    if hour == "12:00pm":
        return _("%(day)s at midday", day=day)
    return _("%(day)s at %(time)s", day=day, time=hour)


# --- GOV.UK components written in Python --------------------------------------------------
# Each writes what the installed GOV.UK Frontend's macro of the same name writes (a test
# renders them with the options of the package's fixtures and compares the HTML), in a plain
# call, which costs less than a Jinja macro: a tag sits in every row of a long table, the
# frame on every page. Options are the macros' (camelCase); "html" options and slots are
# trusted markup, as the macros' ``| safe`` takes them.

Options = Mapping[str, Any]


def _classes(base: str, extra: str | None) -> str:
    return f"{base} {escape(extra)}" if extra else base


def _attributes(attributes: Mapping[str, str] | None) -> str:
    """`` name="value"`` for each attribute, escaped (plain values only, not GOV.UK's
    ``{value, optional}`` form)."""
    if not attributes:
        return ""
    return "".join(f' {escape(name)}="{escape(value)}"' for name, value in attributes.items())


def _content(options: Options, html: str = "html", text: str = "text") -> Markup:
    """The ``html`` option as markup if given, else the ``text`` option escaped."""
    value = options.get(html)
    return Markup(value) if value else escape(options.get(text) or "")


def tag(text: str, classes: str = "", attributes: Mapping[str, str] | None = None) -> Markup:
    """A GOV.UK tag (govukTag): ``text`` is escaped unless it is ``Markup`` (the macro's
    ``html``); ``classes`` and ``attributes`` are the macro's."""
    extra = f" {escape(classes)}" if classes else ""
    return Markup(f'<strong class="govuk-tag{extra}"{_attributes(attributes)}>{escape(text)}'
                  '</strong>')


def skip_link(options: Options) -> Markup:
    """GOV.UK's skip link (govukSkipLink): ``href`` (default ``#content``), ``text`` or
    ``html``, ``classes``, ``attributes``."""
    return Markup(
        f'<a href="{escape(options.get("href") or "#content")}" '
        f'class="{_classes("govuk-skip-link", options.get("classes"))}"'
        f'{_attributes(options.get("attributes"))} data-module="govuk-skip-link">'
        f'{_content(options)}</a>')


def generic_header(options: Options) -> Markup:
    """GOV.UK's header for services not on GOV.UK (govukGenericHeader): ``url`` (default
    ``/``), ``logoText`` or ``logoHtml``, ``classes``, ``containerClasses``, ``attributes``."""
    return Markup(
        f'<div class="{_classes("govuk-generic-header", options.get("classes"))}"'
        f'{_attributes(options.get("attributes"))}>'
        '<div class="govuk-generic-header__container '
        f'{escape(options.get("containerClasses") or "govuk-width-container")}">'
        '<div class="govuk-generic-header__logo">'
        f'<a href="{escape(options.get("url") or "/")}" '
        'class="govuk-generic-header__homepage-link">'
        f'{_content(options, "logoHtml", "logoText")}</a></div></div></div>')


def _navigation_item(item: Options) -> str:
    marked = item.get("active") or item.get("current")
    label = _content(item)
    shown = (f'<strong class="govuk-service-navigation__active-fallback">{label}</strong>'
             if marked else label)
    current = (' aria-current="page"' if item.get("current")
               else ' aria-current="true"' if marked else "")
    if item.get("href"):
        inner = (f'<a class="govuk-service-navigation__link" href="{escape(item["href"])}"'
                 f'{current}{_attributes(item.get("attributes"))}>{shown}</a>')
    elif label:
        inner = f'<span class="govuk-service-navigation__text"{current}>{shown}</span>'
    else:
        inner = ""
    active = " govuk-service-navigation__item--active" if marked else ""
    return f'<li class="govuk-service-navigation__item{active}">{inner}</li>'


def service_navigation(options: Options) -> Markup:
    """GOV.UK's service navigation (govukServiceNavigation): ``serviceName``, ``serviceUrl``,
    ``navigation`` (items with ``href``, ``text`` or ``html``, ``active`` or ``current``,
    ``attributes``), ``collapseNavigationOnMobile`` (by default when there is more than one
    item), ``navigationLabel``, ``navigationId``, ``navigationClasses``, ``menuButtonText``,
    ``menuButtonLabel``, ``ariaLabel``, ``classes``, ``attributes`` and the ``slots`` start,
    end, navigationStart and navigationEnd (markup; not the end slot's inline alignment)."""
    slots = options.get("slots") or {}
    items = [item for item in options.get("navigation") or [] if item]
    collapse = options.get("collapseNavigationOnMobile", len(items) > 1)
    menu = options.get("menuButtonText") or _("Menu")
    navigation_id = escape(options.get("navigationId") or "navigation")
    name = options.get("serviceName")
    parts = ['<div class="govuk-width-container">', Markup(slots.get("start") or ""),
             '<div class="govuk-service-navigation__container">']
    if name:
        parts.append('<span class="govuk-service-navigation__service-name">')
        if options.get("serviceUrl"):
            parts.append(f'<a href="{escape(options["serviceUrl"])}" '
                         f'class="govuk-service-navigation__link">{escape(name)}</a>')
        else:
            parts.append(f'<span class="govuk-service-navigation__text">{escape(name)}</span>')
        parts.append("</span>")
    if items or slots.get("navigationStart") or slots.get("navigationEnd"):
        parts.append(
            f'<nav aria-label="{escape(options.get("navigationLabel") or menu)}" class="'
            f'{_classes("govuk-service-navigation__wrapper", options.get("navigationClasses"))}">')
        if collapse:
            button_label = options.get("menuButtonLabel")
            label = (f' aria-label="{escape(button_label)}"'
                     if button_label and button_label != menu else "")
            parts.append(
                '<button type="button" class="govuk-service-navigation__toggle '
                f'govuk-js-service-navigation-toggle" aria-controls="{navigation_id}"{label} '
                f'hidden aria-hidden="true">{escape(menu)}</button>')
        parts.append(f'<ul class="govuk-service-navigation__list" id="{navigation_id}">')
        parts.append(Markup(slots.get("navigationStart") or ""))
        parts += [_navigation_item(item) for item in items]
        parts.append(Markup(slots.get("navigationEnd") or ""))
        parts.append("</ul></nav>")
    parts += ["</div>", Markup(slots.get("end") or ""), "</div>"]
    common = (f'class="{_classes("govuk-service-navigation", options.get("classes"))}" '
              f'data-module="govuk-service-navigation"{_attributes(options.get("attributes"))}')
    inner = "\n".join(parts)  # whitespace between elements, as the macro's lines give
    if name or slots.get("start") or slots.get("end"):
        label = escape(options.get("ariaLabel") or _("Service information"))
        return Markup(f'<section aria-label="{label}" {common}>{inner}</section>')
    return Markup(f"<div {common}>{inner}</div>")


def footer(options: Options) -> Markup:
    """GOV.UK's footer (govukFooter) as a service not on GOV.UK shows it: no crown, no Open
    Government Licence, no Crown copyright. ``meta`` (``items`` with ``href``, ``text`` and
    ``attributes``; ``text`` or ``html``; ``visuallyHiddenTitle``), ``classes``,
    ``containerClasses``, ``attributes``; not the footer navigation. An item may have ``html``
    instead of ``text`` (words in another language marked with their ``lang``, as "English"
    and "Cymraeg" are)."""
    meta = options.get("meta")
    parts = [f'<div class="{_classes("govuk-footer", options.get("classes"))}"'
             f'{_attributes(options.get("attributes"))}>'
             f'<div class="{_classes("govuk-width-container", options.get("containerClasses"))}">'
             '<div class="govuk-footer__meta">'
             '<div class="govuk-footer__meta-item govuk-footer__meta-item--grow">']
    if meta is not None:
        title = meta.get("visuallyHiddenTitle") or _("Support links")
        parts.append(f'<h2 class="govuk-visually-hidden">{escape(title)}</h2>')
        if meta.get("items"):
            parts.append('<ul class="govuk-footer__inline-list">')
            parts += [f'<li class="govuk-footer__inline-list-item"><a class="govuk-footer__link" '
                      f'href="{escape(item["href"])}"{_attributes(item.get("attributes"))}>'
                      f'{_content(item)}</a></li>' for item in meta["items"]]
            parts.append("</ul>")
        if meta.get("text") or meta.get("html"):
            parts.append(f'<div class="govuk-footer__meta-custom">{_content(meta)}</div>')
    parts.append("</div></div></div></div>")
    return Markup("\n".join(parts))  # whitespace between the links, as the macro's lines give


def return_title(kind: str, start: date, end: date) -> str:
    """'Return for 1 April 2026 to 30 September 2026', or 'Final return, …' for a final."""
    if kind == "final":
        return _("Final return, %(start)s to %(end)s", start=long_date(start), end=long_date(end))
    return _("Return for %(start)s to %(end)s", start=long_date(start), end=long_date(end))


def short_name(name: str, most: int = 60) -> str:
    """A name typed or uploaded by someone (a file's), safe to show in a sentence: no control
    or format characters (which could reorder or hide what is shown), and at most ``most``
    characters, shortened in the middle so the start and the extension stay:
    'a-very-long…report.pdf'. Pages escape it as any text."""
    clean = "".join(c for c in name if c.isprintable()).strip()
    if len(clean) <= most:
        return clean
    tail = max(10, most // 3)
    return clean[:most - tail - 1] + "…" + clean[-tail:]


def paragraphs(text: str | None, otherwise: str = "") -> Markup:
    """Text a user typed, a GOV.UK paragraph per line (blank lines dropped), escaped; or
    ``otherwise`` when there is none."""
    kept = [line.strip() for line in (text or "").split("\n") if line.strip()] or [otherwise]
    return Markup("".join(f'<p class="govuk-body">{escape(line)}</p>' for line in kept))


def init_app(app: Flask) -> None:
    for component in (tag, skip_link, generic_header, service_navigation, footer):
        app.add_template_global(component)
    app.add_template_global(paragraphs)
    app.add_template_global(return_title)
    app.add_template_filter(money)
    app.add_template_filter(long_date, "date")
    app.add_template_filter(date_time, "datetime")
