"""Validation problems, collected all at once and printed as one table."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

ERROR = "error"
WARNING = "warning"
NOTE = "note"  # said once, needs nothing done: counted neither as an error nor a warning


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as a spreadsheet user would find it."""

    severity: str  # "error", "warning" or "note"
    message: str  # what is wrong and how to fix it
    file: str = ""
    sheet: str = ""
    row: int | None = None  # spreadsheet row number, header row = 1
    column: str = ""
    value: str = ""
    expected: str = ""
    client: str = ""  # the row's client reference, to look the case up in the case system

    def __post_init__(self) -> None:
        # a value is shown, never printed whole: a 32,767-character cell would fill the screen
        for name in ("value", "client"):
            text = getattr(self, name)
            if not isinstance(text, str):
                text = "" if text is None else str(text)
            object.__setattr__(self, name, capped(text))
        if len(self.message) > 1000:  # a value written into the message, a header say
            object.__setattr__(self, "message", _LONG_WORD.sub(_cap_word, self.message))

    def as_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "file": self.file,
            "sheet": self.sheet,
            "row": self.row,
            "client": self.client,
            "column": self.column,
            "value": self.value,
            "expected": self.expected,
            "message": self.message,
        }


@dataclass
class ProblemList:
    """All problems found in one run; errors block scoring, warnings do not."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def extend(self, problems: list[Problem]) -> None:
        self.problems.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def error_count(self) -> int:
        return len(self.errors)

    @property
    def ok(self) -> bool:
        return not self.errors

    def sorted(self) -> list[Problem]:
        order = {ERROR: 0, WARNING: 1}
        return sorted(
            self.problems,
            key=lambda p: (order.get(p.severity, 2), p.file, p.sheet, p.row or 0, p.column),
        )


_UNSEEN = re.compile(r"[^\S ]|[\x00-\x1f\x7f\u00a0\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff]")


def visible(text: str) -> str:
    """Text with the characters a reader cannot see written out (``00603\\u200b``): a
    zero-width space, a NUL, a no-break space or a tab make two ids that look the same differ."""
    if not _UNSEEN.search(text):
        return text
    return "".join(
        f"\\u{ord(c):04x}" if _UNSEEN.match(c) or unicodedata.category(c) in ("Cc", "Cf") else c
        for c in text
    )


#: the most characters of one value a message shows
SHOWN = 60


def capped(text: str, most: int = SHOWN) -> str:
    """``text``, or its first ``most`` characters and how long it is: '7777... (20,000
    characters)'."""
    if len(text) <= most or _CAPPED.fullmatch(text[most:]):  # capped once is enough
        return text
    return f"{text[:most]}... ({len(text):,} characters)"


_CAPPED = re.compile(r"\.\.\. \([\d,]+ characters\)")


_LONG_WORD = re.compile(r"\S{200,}")


def _cap_word(match: re.Match) -> str:
    return capped(match.group())


def shown(value: object, quote: bool = True) -> str:
    """A value as a message shows it: as written (text 'None' stays 'None'), unseen characters
    written out, capped, in quotes."""
    text = capped(visible(str(value)))
    return repr(text) if quote else text
