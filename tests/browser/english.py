"""English on a Welsh page, outside the elements marked ``lang="en"`` (issue 16).

A Welsh reader must see Welsh, and a screen reader must be told where a page falls back to
English (WCAG 2.2, 3.1.2 Language of Parts): the page marks that English ``lang="en"``. The
detector reads what a person meets on the page as it is shown: every visible text node, the
title, and the accessible names a screen reader reads (``aria-label``, ``title``, ``alt``,
``placeholder``, a button's value), each with the nearest ``lang`` above it. Of those not
under ``lang="en"`` it flags

- **a message**: the whole text (of a text node, or of an element whose words are all its
  own) is an English message of the catalogue whose Welsh is different (or missing: an
  untranslated message, reported apart, since a translation pass fixes it, not the code);
- **English words**: the text holds a word only English has ("the", "your", "with": not
  "a", "i", "at", "is", "in" or "on", which Welsh has too).

Text people typed is shown as typed: tests choose Welsh for what they type, and pass what
others typed in English (the demo's bids) as ``typed`` to be left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel.messages.pofile import read_po

if TYPE_CHECKING:
    from playwright.sync_api import Page

WELSH_PO = (Path(__file__).resolve().parents[2] / "portal" / "translations" / "cy"
            / "LC_MESSAGES" / "messages.po")

# Words only English has. Left out, because Welsh has them too: a, i, at, is, in, yn, on,
# to (roof), be (what), can (hundred), all (can), was (lad), or, no, dim, ac, am, man, hen.
ENGLISH_ONLY = frozenset("""
    the and of your you are for with this that these those has have will not from been
    which when what their there they them our would should must were who how does about
    into than only please here where why
""".split())
# GOV.UK Frontend's own English, which its macros and scripts write unless given words.
GOVUK_DEFAULTS = frozenset({
    "Day", "Month", "Year", "Back", "Menu", "Show", "Hide", "Show password", "Hide password",
    "Warning", "There is a problem", "Important", "Success", "Error:", "Show all sections",
    "Hide all sections", "Show this section", "Hide this section", "Contents", "Close",
    "Skip to main content", "Exit this page", "Emergency", "Support links", "Pagination",
    "Previous", "Next", "Service information", "Choose file", "No file chosen",
})
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
PLACEHOLDER = re.compile(r"%\([a-zA-Z_0-9]+\)[sdifr]|%[sdif]|\{[a-zA-Z_0-9]*\}")

# What the page shows, read in the browser: text nodes and accessible names, each with the
# nearest [lang] above it and a short description of its element.
READ_PAGE = r"""() => {
  const describe = (element) => {
    const parts = [];
    for (let e = element; e && e !== document.documentElement && parts.length < 3;
         e = e.parentElement) {
      let part = e.tagName.toLowerCase();
      if (e.id) part += "#" + e.id;
      else if (typeof e.className === "string" && e.className.trim())
        part += "." + e.className.trim().split(/\s+/).slice(0, 2).join(".");
      parts.unshift(part);
    }
    return parts.join(" > ");
  };
  const lang = (element) => {
    const marked = element.closest("[lang]");
    return marked ? marked.getAttribute("lang") : "";
  };
  const shown = (element) => !element.closest("script, style, noscript, template, [hidden]")
    && (typeof element.checkVisibility !== "function"
        || element.checkVisibility({visibilityProperty: true}));
  const found = [{text: document.title, lang: lang(document.documentElement),
                  where: "title", kind: "title"}];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    const text = node.textContent.replace(/\s+/g, " ").trim();
    if (!text || !element || !shown(element)) continue;
    found.push({text, lang: lang(element), where: describe(element), kind: "text"});
  }
  // Elements whose words are all their own (no element inside marks another language):
  // a sentence split by a link or <strong> is still one message.
  for (const element of document.body.querySelectorAll(
      "p, li, a, button, label, legend, h1, h2, h3, h4, dt, dd, td, th, caption, summary")) {
    const text = element.textContent.replace(/\s+/g, " ").trim();
    if (!text || element.children.length === 0 || !shown(element)
        || element.querySelector("[lang]")) continue;
    found.push({text, lang: lang(element), where: describe(element), kind: "element"});
  }
  const named = "[aria-label], [title], img[alt], [placeholder], "
    + "input[type=submit][value], input[type=button][value], input[type=reset][value]";
  for (const element of document.body.querySelectorAll(named)) {
    if (!shown(element)) continue;
    for (const attribute of ["aria-label", "title", "alt", "placeholder", "value"]) {
      const value = element.getAttribute(attribute);
      if (attribute === "value" && element.tagName !== "INPUT") continue;
      if (value && value.trim()) {
        found.push({text: value.replace(/\s+/g, " ").trim(), lang: lang(element),
                    where: describe(element) + "[" + attribute + "]", kind: "name"});
      }
    }
  }
  return found;
}"""


@dataclass(frozen=True)
class Finding:
    page: str
    text: str
    where: str
    why: str

    def __str__(self) -> str:
        return f"{self.page}: {self.text!r} at {self.where} ({self.why})"


@lru_cache(maxsize=1)
def _catalogue() -> tuple[dict[str, str], list[tuple[re.Pattern[str], str]]]:
    """English messages whose Welsh differs (or is missing), by their whole text, and those
    with placeholders as patterns; each with "translated" or "untranslated"."""
    with WELSH_PO.open("rb") as source:
        catalogue = read_po(source, locale="cy")
    whole: dict[str, str] = {}
    patterns: list[tuple[re.Pattern[str], str]] = []
    for message in catalogue:
        if not message.id:
            continue
        ids = [str(each) for each in (message.id if isinstance(message.id, tuple | list)
                                      else (message.id,))]
        forms = [str(each or "") for each in (
            message.string if isinstance(message.string, tuple | list) else (message.string,))]
        state = "untranslated" if not all(f and f.strip() for f in forms) else "translated"
        for english in ids:
            shown = " ".join(english.split())
            if state == "translated" and shown in {" ".join(f.split()) for f in forms}:
                continue  # the same in Welsh ("OK", "£%(amount)s")
            if "<" in shown:
                shown = " ".join(re.sub(r"<[^>]+>", "", shown).split())
            if not PLACEHOLDER.search(shown):
                if len(WORD.findall(shown)) >= 1 and len(shown) > 1:
                    whole.setdefault(shown, state)
                continue
            literal = PLACEHOLDER.sub("", shown)
            if sum(len(w) for w in WORD.findall(literal)) < 6:
                continue  # mostly a placeholder: matches too much
            pieces = [re.escape(piece) for piece in PLACEHOLDER.split(shown.replace("%%", "%"))]
            patterns.append((re.compile(".+?".join(pieces) + r"\Z"), state))
    return whole, patterns


def english_words(text: str) -> list[str]:
    return [word for word in WORD.findall(text) if word.lower() in ENGLISH_ONLY]


def message_state(text: str) -> str | None:
    """"translated" or "untranslated" when ``text`` is an English message of the catalogue
    whose Welsh differs, else None."""
    whole, patterns = _catalogue()
    if text in whole:
        return whole[text]
    for pattern, state in patterns:
        if pattern.match(text):
            return state
    return None


def findings(page: Page, typed: frozenset[str] = frozenset()) -> list[Finding]:
    """English outside ``lang="en"`` on the page as shown now."""
    url = page.url
    found: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for item in page.evaluate(READ_PAGE):
        text, lang, where = item["text"], item["lang"] or "", item["where"]
        if lang.lower().split("-")[0] == "en" or text in typed or (text, where) in seen:
            continue
        if any(piece and piece in text for piece in typed if len(piece) > 12):
            continue
        seen.add((text, where))
        state = message_state(text)
        if state is None and text in GOVUK_DEFAULTS:
            state = "GOV.UK Frontend's default"
        if state is not None:
            found.append(Finding(url, text, where, f"English message, {state}"))
            continue
        words = english_words(text)
        if words and item["kind"] != "element":  # a node's words are flagged by the node
            found.append(Finding(url, text, where, "English words: " + ", ".join(
                sorted(set(w.lower() for w in words)))))
    return found


def describe(found: list[Finding]) -> str:
    return "\n  ".join(str(f) for f in found)


class Detector:
    """Runs :func:`findings` on every page a test checks and keeps what it finds, the
    untranslated messages apart from the rest."""

    def __init__(self, typed: frozenset[str] = frozenset()) -> None:
        self.typed = typed
        self.found: list[Finding] = []

    def __call__(self, page: Page) -> None:
        self.found.extend(findings(page, self.typed))

    @property
    def untranslated(self) -> list[Finding]:
        return [f for f in self.found if f.why.endswith(", untranslated")]

    @property
    def english(self) -> list[Finding]:
        return [f for f in self.found if not f.why.endswith(", untranslated")]

    def report(self) -> dict[str, Any]:
        return {"english": self.english, "untranslated": self.untranslated}
