"""The UI speaks Dutch: every message in the catalogue is translated, and the compiled .mo is current."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import koppeling

LOCALE = Path(koppeling.__file__).parent / "locale" / "nl" / "LC_MESSAGES"


def _entries() -> list[tuple[str, str]]:
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    body = text.split("\n\n", 1)[1]  # after the header entry
    assert "#, fuzzy" not in body, "fuzzy entries are not compiled: translate them"
    pairs = re.findall(r'^msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', body, re.M)

    def join(chunk: str) -> str:
        raw = "".join(re.findall(r'"(.*)"', chunk))
        return raw.encode().decode("unicode_escape").encode("latin-1").decode()  # undo PO escapes

    return [(join(mid), join(mstr)) for mid, mstr in pairs]


def test_dutch_catalogue_is_complete():
    entries = _entries()
    assert len(entries) > 100
    assert [mid for mid, mstr in entries if not mstr] == []


def test_compiled_catalogue_matches_the_source():
    with open(LOCALE / "django.mo", "rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    stale = [mid for mid, mstr in _entries() if compiled.gettext(mid) != mstr]
    assert stale == [], "run `make messages` (msgfmt) after editing django.po"


def test_every_outcome_text_is_translated():
    """Every code any package registered has its text and suggestion in the Dutch catalogue."""
    import koppeling.core
    import koppeling.sync.outcomes  # noqa: F401
    from koppeling.connectors.registry import discover
    from koppeling.core.messages import registered_codes, text_of

    discover()
    translated = {mid: mstr for mid, mstr in _entries() if mstr}
    missing = []
    for code in registered_codes():
        if code.startswith("demo_"):  # the example in core.messages' docstring
            continue
        entry = text_of(code)
        for text in (entry.text, entry.suggestion):
            if text and text not in translated:
                missing.append((code, text))
    assert missing == [], f"run `make messages` and translate: {missing[:5]}"
