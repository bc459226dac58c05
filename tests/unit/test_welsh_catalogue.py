"""The Welsh catalogue stays complete (issue 16): every message of the code is in it, every
message has Welsh (all six plural forms) and none is fuzzy, and each translation keeps the
English's placeholders and HTML tags. A message added to the code without ``make
translations``, or left for a translator, fails here by name."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.util import pathmatch

ROOT = Path(__file__).resolve().parents[2]
WELSH_PO = ROOT / "portal" / "translations" / "cy" / "LC_MESSAGES" / "messages.po"
WELSH_PLURALS = 6
# %(name)s, %s, {name}, %%: what Python and Jinja fill in or keep.
PLACEHOLDER = re.compile(r"%\([a-zA-Z_0-9]+\)[sdifr]|%[sdif]|\{[a-zA-Z_0-9]*\}|%%")
TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)")
SHOWN = 15  # problems named in a failure; the count says how many more


@lru_cache(maxsize=1)
def welsh() -> Catalog:
    with WELSH_PO.open("rb") as source:
        return read_po(source, locale="cy")


def messages() -> Iterator[Message]:
    return (message for message in welsh() if message.id)


def name(message: Message) -> str:
    first = ids(message)[0]
    context = f" (context {message.context!r})" if message.context else ""
    return f"{first!r}{context}"


def strings(message: Message) -> tuple[str, ...]:
    found = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return tuple(str(each or "") for each in found)


def ids(message: Message) -> tuple[str, ...]:
    found = message.id if isinstance(message.id, tuple | list) else (message.id,)
    return tuple(str(each) for each in found)


def fail_naming(problems: list[str], what: str) -> None:
    if problems:
        more = f"\n  … and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        pytest.fail(f"{len(problems)} {what}:\n  " + "\n  ".join(problems[:SHOWN]) + more,
                    pytrace=False)


def test_every_message_has_welsh_in_every_plural_form():
    problems = []
    for message in messages():
        forms = strings(message)
        if message.pluralizable and len(forms) != WELSH_PLURALS:
            problems.append(f"{name(message)}: {len(forms)} plural forms, Welsh has "
                            f"{WELSH_PLURALS}")
        elif not all(form and form.strip() for form in forms):
            problems.append(f"{name(message)}: no Welsh")
    fail_naming(problems, "messages without Welsh in portal/translations/cy (translate them "
                          "in messages.po)")


def test_no_message_is_fuzzy():
    fail_naming([name(m) for m in messages() if m.fuzzy],
                "fuzzy messages (a guess by `pybabel update`, never checked): translate "
                "them and remove the fuzzy flag")


def placeholder_problems(message: Message) -> list[str]:
    """A translation must keep the English's placeholders (a plural form may drop the
    number, as "one" often does) and its HTML tags, and its leading and trailing space."""
    english = ids(message)
    wanted = [sorted(PLACEHOLDER.findall(each)) for each in english]
    tags = sorted(TAG.findall(english[0]))
    problems = []
    for form in strings(message):
        if not form:
            continue
        found = sorted(PLACEHOLDER.findall(form))
        if found not in wanted and not (message.pluralizable
                                        and set(found) <= set(wanted[-1])):
            problems.append(f"{name(message)}: placeholders {found}, English has {wanted[-1]}")
        if sorted(TAG.findall(form)) != tags:
            problems.append(f"{name(message)}: tags {sorted(TAG.findall(form))}, English has "
                            f"{tags}")
        if (form[:1].isspace(), form[-1:].isspace()) != (english[0][:1].isspace(),
                                                         english[0][-1:].isspace()):
            problems.append(f"{name(message)}: leading or trailing space differs")
    return problems


def test_translations_keep_the_placeholders_and_tags_of_the_english():
    fail_naming([problem for m in messages() for problem in placeholder_problems(m)],
                "translations that change what the code fills in")


# Up to date with the code ------------------------------------------------------------------

def extraction_keywords() -> dict:
    """Babel's default keywords and the Makefile's ``-k`` ones, as `make translations` uses."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    line = next(line for line in makefile.splitlines() if "pybabel extract" in line)
    return {**DEFAULT_KEYWORDS, **parse_keywords(re.findall(r"-k\s+(\S+)", line))}


def extracted() -> dict[tuple[str, str | None], str]:
    """Every message marked in the code, as ``pybabel extract -F babel.cfg`` finds it: its
    (msgid, context) and where it is."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = extraction_keywords()
    tops = sorted({pattern.split("/", 1)[0] for pattern, _method in method_map})
    found: dict[tuple[str, str | None], str] = {}
    for top in tops:
        for folder, folders, files in os.walk(ROOT / top):
            folders[:] = sorted(f for f in folders if not f.startswith((".", "_")))
            for file in sorted(files):
                path = Path(folder, file).relative_to(ROOT).as_posix()
                method = next((m for pattern, m in method_map if pathmatch(pattern, path)),
                              None)
                if method is None or method == "ignore":
                    continue
                options: dict = next((options_map[p] for p, _m in method_map
                                if pathmatch(p, path)), {})
                for line, message, _comments, context in extract_from_file(
                        method, str(ROOT / path), keywords=keywords, options=options):
                    msgid = message[0] if isinstance(message, tuple) else message
                    found.setdefault((msgid, context), f"{path}:{line}")
    return found


def test_every_message_in_the_code_is_in_the_welsh_catalogue():
    catalogue = welsh()
    missing = [f"{msgid!r}{f' (context {context!r})' if context else ''} at {where}"
               for (msgid, context), where in extracted().items()
               if msgid and catalogue.get(msgid, context=context) is None]
    fail_naming(missing, "messages in the code but not in the Welsh catalogue (run `make "
                         "translations`, then translate them)")


def test_msgfmt_counts_every_message_translated_and_none_fuzzy():
    """What a translator's tool says: ``msgfmt --statistics`` (GNU gettext) when installed,
    else Babel's count of the same."""
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        untranslated = [m for m in messages() if not all(strings(m))]
        assert not untranslated and not any(m.fuzzy for m in messages())
        return
    result = subprocess.run([msgfmt, "--check", "--statistics", "-o", os.devnull,
                             str(WELSH_PO)], capture_output=True, text=True,
                            env={**os.environ, "LC_ALL": "C"})
    assert result.returncode == 0, result.stderr
    statistics = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ translated messages?\.", statistics), statistics
