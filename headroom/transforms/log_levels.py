"""Log levels written as codes: Android's ``"level": "E"``, syslog's ``"err"``.

Error and warning signals are words ("error", "WARN", "fatal"); a JSON log whose level field
holds a one-letter code says "error" in no word, so its two error events would be cut like
any INFO line. For a list whose items have a level field, each item whose level is such a
code gets the word it stands for among its texts, for the signal and question searches only:
the items themselves are never changed. A warning code ("W") is a word for questions ("show
me the warnings") but no signal: warnings are a tenth of a logcat, and the signals' room for
warnings is kept for the ones that say why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Field names that hold an event's level, as JSON loggers write them.
_LEVEL_KEYS = ("level", "severity", "levelname", "loglevel", "log_level", "lvl")
# Codes that no signal word matches, and the word each stands for (Android's V/D/I/W/E/F;
# syslog's err and alert). Words the signals already match ("ERROR", "warn", "crit") need none.
_CODE_WORDS = {"e": "error", "f": "fatal", "err": "error", "alert": "critical"}
_QUESTION_ONLY = {"w": "warning"}
_SCHEMA_ITEMS = 50  # the fields of a list are read off its first items


def level_key(items: Sequence[Any]) -> str | None:
    """The field of ``items`` that holds their level as a string, if the list has one."""
    for item in items[:_SCHEMA_ITEMS]:
        if type(item) is not dict:
            continue
        for key in item:
            if type(key) is str and key.lower() in _LEVEL_KEYS and type(item[key]) is str:
                return key
    return None


def add_level_words(items: Sequence[Any], parts: Sequence[tuple[list[str], list[str]]]) -> None:
    """Append to each item's texts and signal texts (``item_parts``) the word its level
    code stands for."""
    key = level_key(items)
    if key is None:
        return
    for item, (values, signal) in zip(items, parts, strict=True):
        code = item.get(key) if type(item) is dict else None
        if type(code) is not str or len(code) > 5:
            continue
        code = code.lower()
        word = _CODE_WORDS.get(code)
        if word is not None:
            values.append(word)
            signal.append(word)
        elif code in _QUESTION_ONLY:
            values.append(_QUESTION_ONLY[code])
