"""``evaltool init DIR --from EXPORT``: settings written from a real export.

A case-management export has its own tab names, headers and labels. This module reads one
(an .xlsx workbook or a folder of .csv files, nothing typed) and matches each sheet to a table
of the contract, each header to a column and each label of a coded column to a code, by

- the words of the name (and the usual synonyms in case-management systems: "Date Engaged"
  for start_date, "Reason Closed" for closure_reason), and
- the values: dates where a date is wanted, ids (often with leading zeros), whole numbers in
  range, yes/no, and the labels of a coded column that turn into its codes.

Every match comes with the reason it was made (a comment on its line in evaltool.toml), and
everything left unmatched with what to do about it. Nothing is guessed from a single weak
sign: a header whose name and values do not both fit is left for the person to map.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evaltool.data.columns import (
    CATEGORY,
    DATE,
    ID,
    INTEGER,
    NO,
    NUMBER,
    TEXT,
    YES,
    YESNO,
    Column,
    as_text,
    normal_code,
    parse_dates,
)
from evaltool.data.reading import ROW, RawTable, read_source
from evaltool.data.specs import TableSpec

#: sheet (or file) names a case-management system gives each table
TABLE_WORDS: dict[str, tuple[str, ...]] = {
    "clients": ("client list", "clients", "client", "referrals", "service users", "parents",
                "caseload", "people", "women", "mothers", "client details"),
    "proceedings": ("court proceedings", "care proceedings", "proceedings", "court",
                    "court cases", "legal", "court history"),
    "children": ("children", "child", "child details", "babies"),
    "proceedings_children": ("proceedings children", "children in proceedings",
                             "subject children"),
    "goals": ("goal reviews", "goals", "gas", "goal attainment", "goal attainment scaling"),
    "gbo": ("goal based outcomes", "gbo", "goal ratings"),
    "star": ("outcome star", "star", "recovery star", "outcomes star"),
    "feedback": ("feedback", "survey", "client feedback", "questionnaire"),
    "partner_access": ("partner services", "onward referrals", "partner access",
                       "other services"),
    "pregnancies": ("pregnancies", "pregnancy"),
    "contraception": ("contraception", "larc"),
    "areas": ("areas", "local authorities"),
}  # fmt: skip

#: headers a case-management system gives each contract column
COLUMN_WORDS: dict[str, tuple[str, ...]] = {
    "client_id": ("client ref", "client reference", "client number", "client no", "client id",
                  "person id", "person ref", "case ref", "case number", "case id", "ref",
                  "reference", "id", "urn", "client"),
    "referral_date": ("date referred", "referred", "referral date", "date of referral",
                      "referral received", "referred on"),
    "start_date": ("date engaged", "engaged", "engagement date", "start", "started",
                   "date started", "start date", "date allocated", "allocated", "service start"),
    "end_date": ("date closed", "closed", "closure date", "end", "ended", "date ended",
                 "case closed", "end date", "date of closure"),
    "closure_reason": ("reason closed", "closure reason", "reason for closure", "why closed",
                       "closing reason", "reason ended", "end reason"),
    "cohort": ("cohort", "group", "comparison group", "study group"),
    "gender": ("gender", "sex"),
    "birth_year": ("year of birth", "birth year", "yob", "date of birth", "dob", "born"),
    "ethnicity": ("ethnicity", "ethnic group", "ethnic origin", "ethnic background"),
    "care_experienced": ("care experienced", "care leaver", "looked after as a child",
                         "in care as a child", "was in care", "care experience"),
    "prior_children_removed": ("previous removals", "prior removals", "children removed",
                               "number of children removed", "previous children removed",
                               "children previously removed"),
    "age_first_pregnancy": ("age at first pregnancy", "age first pregnant",
                            "age at first birth", "first pregnancy age"),
    "mental_health": ("mental health", "mental health need", "mental health issues"),
    "domestic_abuse": ("domestic abuse", "domestic violence", "dv", "dva"),
    "substance_misuse": ("substance misuse", "substance use", "drugs alcohol",
                         "drug alcohol misuse"),
    "learning_disability": ("learning disability", "learning difficulty",
                            "learning difficulties", "ld"),
    "key_worker": ("key worker", "keyworker", "worker", "allocated worker", "practitioner",
                   "case worker", "caseworker", "lead worker"),
    "issued_date": ("date issued", "issue date", "issued", "date of issue",
                    "proceedings issued", "application date", "date proceedings issued"),
    "concluded_date": ("date concluded", "concluded", "conclusion date", "final order date",
                       "date of final order", "date concluded proceedings", "end of proceedings"),
    "outcome": ("outcome", "final order", "order made", "result", "order"),
    "child_ids": ("children", "child ids", "child refs", "child references", "subject children"),
    "child_id": ("child ref", "child reference", "child id", "child number", "child no"),
    "birth_date": ("child dob", "child date of birth", "date of birth", "dob", "born"),
    "unborn": ("unborn", "unborn at issue", "pre birth", "unborn when issued"),
    "goal_id": ("goal no", "goal number", "goal ref", "goal", "goal id"),
    "review_date": ("review date", "date reviewed", "date of review", "reviewed"),
    "level": ("gas level", "level", "attainment level", "goal level", "attainment"),
    "weight": ("goal weight", "weight", "weighting", "importance"),
    "rating_date": ("rating date", "date rated", "date of rating"),
    "score": ("score", "rating", "gbo score"),
    "assessment_date": ("star date", "assessment date", "date assessed", "date of assessment",
                        "reading date"),
    "response_date": ("response date", "date of response", "date completed", "survey date"),
}  # fmt: skip

#: labels a case-management system gives each code (after case, spaces and hyphens)
CODE_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "closure_reason": {
        "completed": ("completed programme", "complete", "finished", "planned ending",
                      "successful", "planned end", "completed"),
        "disengaged": ("did not engage", "dropped out", "no longer engaging", "withdrew",
                       "disengagement", "unplanned ending", "lost contact"),
        "moved_away": ("moved out of area", "moved area", "moved", "relocated",
                       "left the area", "moved away"),
        "other": ("other reason", "other"),
    },
    "gender": {
        "female": ("f", "woman", "women", "mother"),
        "male": ("m", "man", "men", "father"),
        "other": ("non binary", "nonbinary"),
        "unknown": ("not known", "prefer not to say", "not stated", "not recorded"),
    },
    "cohort": {
        "service": ("intervention", "programme", "service client", "treatment"),
        "comparison": ("control", "comparison group", "waiting list", "not offered"),
    },
    "outcome": {
        "care_order": ("care order", "full care order", "co"),
        "interim_care_order": ("interim care order", "ico"),
        "placement_order": ("placement order", "po", "adoption", "placement for adoption"),
        "supervision_order": ("supervision order", "so"),
        "sgo": ("special guardianship order", "special guardianship", "sgo"),
        "returned_home": ("returned home", "no order", "home", "returned to parent"),
        "withdrawn": ("withdrawn", "dismissed", "application withdrawn"),
        "other": ("other order", "other"),
    },
}  # fmt: skip

#: a header must score at least this (words and values together) to be matched
THRESHOLD = 0.55
_STOP = {"of", "the", "a", "an", "no", "number", "at", "on", "for", "to", "in", "by", "is"}


@dataclass
class Match:
    header: str  # as written in the export
    column: str
    why: str


@dataclass
class SheetMatch:
    sheet: str  # as written (the CSV file's stem for a folder)
    table: str
    why: str
    columns: list[Match] = field(default_factory=list)
    codes: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # col -> (l, c, why)
    unmatched: list[str] = field(default_factory=list)  # what could not be matched, what to do


@dataclass
class Guess:
    source: Path
    sheets: list[SheetMatch]
    unmatched: list[str]  # across the export: sheets, required columns, labels

    @property
    def column_count(self) -> int:
        return sum(len(s.columns) for s in self.sheets)


def words(text: str) -> list[str]:
    """The words of a name: lower case, split at anything not a letter or digit (and at the
    underscores of contract names)."""
    return [w for w in re.split(r"[^a-z0-9]+", str(text).lower()) if w]


def stem(word: str) -> str:
    """Enough of a word to compare: 'referred', 'referral' and 'refer' meet at 'refer'."""
    for suffix in ("ations", "ation", "ments", "ment", "ing", "als", "al", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:5]


def _phrase(text: str) -> str:
    return " ".join(words(text))


def name_score(header: str, name: str, synonyms: tuple[str, ...] = ()) -> tuple[float, str]:
    """How well a header's words name a contract column (or a sheet a table), and why."""
    said = _phrase(header)
    if said == _phrase(name):
        return 1.0, f"the header is '{name}'"
    if said in synonyms:
        return 0.95, f"'{header}' is a usual name for {name}"
    mine = {stem(w) for w in words(header) if w not in _STOP}
    best, why = 0.0, ""
    for variant in (name, *synonyms):
        theirs = {stem(w) for w in words(variant) if w not in _STOP}
        if not mine or not theirs:
            continue
        shared = mine & theirs
        score = 0.85 * len(shared) / len(mine | theirs)
        if score > best:
            best, why = score, f"the words of '{header}' are those of '{variant}'"
    ratio = difflib.SequenceMatcher(None, said, _phrase(name)).ratio()
    if ratio >= 0.85 and 0.8 * ratio > best:
        best, why = 0.8 * ratio, f"'{header}' is spelt nearly as {name}"
    return best, why


@dataclass
class Values:
    """What a column's values look like (read once per header)."""

    filled: int
    dates: float  # shares of the filled cells
    numbers: float
    whole: float
    yesno: float
    leading_zeros: float
    distinct: int
    unique: bool
    labels: list[str]  # distinct values as written, for coded columns (at most 40)
    low: float | None
    high: float | None


def look_at(column: pd.Series) -> Values:
    text = as_text(column.reset_index(drop=True)).dropna()
    n = len(text)
    if n == 0:
        return Values(0, 0, 0, 0, 0, 0, 0, False, [], None, None)
    dated = parse_dates(text)
    dates = float(dated.values.notna().mean())
    nums = pd.to_numeric(text.astype(object), errors="coerce")
    numbers = float(nums.notna().mean())
    whole = float((nums.notna() & (nums % 1 == 0)).mean())
    low = text.str.lower()
    yesno = float(low.isin(YES + NO).mean())
    zeros = float(text.str.fullmatch(r"0\d+").fillna(False).mean())
    distinct = text.nunique()
    labels = list(dict.fromkeys(text))[:40] if distinct <= 40 else []
    return Values(
        n,
        dates,
        numbers,
        whole,
        yesno,
        zeros,
        distinct,
        distinct == n,
        labels,
        float(nums.min()) if nums.notna().any() else None,
        float(nums.max()) if nums.notna().any() else None,
    )


def label_code(label: str, column: str, choices: tuple[str, ...]) -> tuple[str | None, str]:
    """The code a label stands for, and why; None when no code fits well enough."""
    code = normal_code(pd.Series([label], dtype="string")).iloc[0]
    if code in choices:
        return code, "it is the code"
    said = _phrase(label)
    for choice, names in CODE_WORDS.get(column, {}).items():
        if choice in choices and (said in names or said == _phrase(choice)):
            return choice, f"'{label}' is a usual label for {choice}"
    mine = {stem(w) for w in words(label) if w not in _STOP}
    scored = []
    for choice in choices:
        variants = (choice, *CODE_WORDS.get(column, {}).get(choice, ()))
        for variant in variants:
            theirs = {stem(w) for w in words(variant) if w not in _STOP}
            if mine & theirs:
                scored.append((len(mine & theirs) / len(mine | theirs), choice, variant))
    if scored:
        scored.sort(reverse=True)
        top = scored[0]
        if len(scored) == 1 or scored[1][1] == top[1] or scored[1][0] < top[0]:
            return top[1], f"the words of '{label}' are those of '{top[2]}'"
    return None, ""


def value_fit(values: Values, col: Column) -> tuple[float, str]:
    """How well the values fit a column's type (1 fits, 0 does not), and why."""
    if values.filled == 0:
        return 0.6, "the column is empty"
    if col.type == DATE:
        if values.dates >= 0.9:
            return 1.0, f"{values.dates:.0%} of its values are dates"
        return 0.1, f"only {values.dates:.0%} of its values are dates"
    if col.type == ID:
        why = "its values are ids"
        score = 0.8 if values.dates < 0.5 else 0.2
        if values.leading_zeros > 0.5:
            score, why = 1.0, "its values are ids with leading zeros"
        return score, why
    if col.type == YESNO:
        if values.yesno >= 0.9:
            return 1.0, "its values are yes/no"
        return 0.1, "its values are not yes/no"
    if col.type in (INTEGER, NUMBER):
        if col.name == "birth_year" and values.dates >= 0.9:
            return 1.0, "its values are dates of birth (read as the year only)"
        fits = values.whole if col.type == INTEGER else values.numbers
        inside = (col.min is None or (values.low or 0) >= col.min) and (
            col.max is None or (values.high or 0) <= col.max
        )
        if fits >= 0.95 and inside:
            return 1.0, "its values are numbers in range"
        return 0.1, "its values are not numbers in range"
    if col.type == CATEGORY and col.choices:
        if not values.labels:
            return 0.1, "it has too many different values for a coded column"
        coded = [label_code(v, col.name, col.choices)[0] for v in values.labels]
        share = sum(c is not None for c in coded) / len(coded)
        if share >= 0.5:
            return 0.7 + 0.3 * share, f"{share:.0%} of its labels are {col.name} codes"
        return 0.2, f"few of its labels are {col.name} codes"
    if col.type == TEXT and values.dates >= 0.9:
        return 0.3, "its values are dates"
    return 0.8, "free text"


def match_columns(raw: RawTable, spec: TableSpec) -> tuple[list[Match], float]:
    """The headers of a sheet matched to the columns of a table: every pair scored by words
    and values, the best pairs taken first, each header and column once."""
    looks = {h: look_at(raw.frame[h]) for h in raw.frame.columns if h != ROW}
    pairs = []
    for h, values in looks.items():
        written = raw.headers.get(h, h)
        for col in spec.columns:
            words_score, words_why = name_score(written, col.name, COLUMN_WORDS.get(col.name, ()))
            fit, fit_why = value_fit(values, col)
            score = words_score * fit
            if words_score < 0.3 and col.type == CATEGORY and fit >= 0.9:
                score, words_why = 0.6 * fit, "its labels are this column's codes"
            if score >= THRESHOLD * 0.5:
                why = f"{words_why}; {fit_why}" if words_why else fit_why
                pairs.append((score, written, col.name, why))
    pairs.sort(key=lambda p: -p[0])
    taken_h: set[str] = set()
    taken_c: set[str] = set()
    out, total = [], 0.0
    for score, header, column, why in pairs:
        if header in taken_h or column in taken_c or score < THRESHOLD:
            continue
        taken_h.add(header)
        taken_c.add(column)
        out.append(Match(header, column, why))
        total += score
    order = {c: i for i, c in enumerate(spec.column_names)}
    out.sort(key=lambda m: order[m.column])
    return out, total


def guess(export: Path, specs: list[TableSpec]) -> Guess:
    """Match an export's sheets, headers and labels to the contract (``specs``: the core's
    tables and the installed instruments')."""
    source = read_source(Path(export))
    by_name = {s.name: s for s in specs}
    candidates = []
    for raw in source.tables.values():
        shown = raw.sheet or Path(raw.file).stem
        for spec in specs:
            words_score, words_why = name_score(shown, spec.name, TABLE_WORDS.get(spec.name, ()))
            matches, total = match_columns(raw, spec)
            covered = total / max(len(raw.headers), 1)
            required = all(
                any(m.column == c.name for m in matches) for c in spec.columns if c.required
            )
            fit = 0.6 * covered + 0.4 * words_score + (0.2 if required else 0)
            why = f"{len(matches)} of its {len(raw.headers)} headers match columns of {spec.name}"
            if words_score >= 0.5:
                why = f"{words_why}; {why}"
            candidates.append((fit, raw, spec.name, why, matches))
    candidates.sort(key=lambda c: -c[0])
    sheets: list[SheetMatch] = []
    used_raw: set[str] = set()
    used_table: set[str] = set()
    for fit, raw, table, why, matches in candidates:
        if raw.name in used_raw or table in used_table or fit < 0.35:
            continue
        used_raw.add(raw.name)
        used_table.add(table)
        sheets.append(_sheet(raw, by_name[table], why, matches))
    unmatched = []
    for raw in source.tables.values():
        if raw.name not in used_raw:
            unmatched.append(
                f"{_kind(raw)} '{raw.sheet or raw.file}' matches no table: if it holds one, "
                f'name it in [tables] ("{raw.sheet or Path(raw.file).stem}" = "clients", say) '
                "and map its headers in [columns.<table>]; if not, it is left out (a warning)"
            )
    for problem in source.unread.values():
        unmatched.append(f"{problem.sheet or problem.file}: {problem.message}")
    if "clients" not in used_table:
        unmatched.append(
            "no sheet matches clients, which every run needs: name it in [tables] and map its "
            "headers in [columns.clients]"
        )
    for s in sheets:
        unmatched += [f"{_kind_of(s)} '{s.sheet}': {u}" for u in s.unmatched]
    return Guess(Path(export), sheets, unmatched)


def _kind(raw: RawTable) -> str:
    return "sheet" if raw.sheet else "file"


def _kind_of(sheet: SheetMatch) -> str:
    return "file" if sheet.sheet.lower().endswith(".csv") else "sheet"


def _sheet(raw: RawTable, spec: TableSpec, why: str, matches: list[Match]) -> SheetMatch:
    out = SheetMatch(raw.sheet or raw.file, spec.name, why, matches)
    found = {m.column for m in matches}
    for col in spec.columns:
        if col.required and col.name not in found:
            out.unmatched.append(
                f"no header matches the required column {col.name} ({col.expected()}): map "
                f'the header that holds it in [columns.{spec.name}], e.g. "Your header" = '
                f'"{col.name}"'
            )
    names = {m.header for m in matches}
    for h in raw.frame.columns:
        written = raw.headers.get(h, h)
        if h != ROW and written not in names:
            out.unmatched.append(
                f"the header '{written}' matches no column of {spec.name}, so it is not read; "
                f'if it holds one, map it in [columns.{spec.name}]: "{written}" = "<column>" '
                f"(columns: {', '.join(c for c in spec.column_names if c not in found)})"
            )
    for m in matches:
        col = spec.column(m.column)
        if col.type != CATEGORY or not col.choices:
            continue
        key = next(h for h in raw.frame.columns if raw.headers.get(h, h) == m.header)
        labels = look_at(raw.frame[key]).labels
        coded = []
        for label in labels:
            code, reason = label_code(label, col.name, col.choices)
            if code is None:
                out.unmatched.append(
                    f"the label '{label}' in '{m.header}' is no {col.name} code: map it in "
                    f'[codes.{col.name}]: "{label}" = "<code>" (codes: {", ".join(col.choices)})'
                )
            elif reason != "it is the code":
                coded.append((label, code, reason))
        if coded:
            out.codes[col.name] = coded
    return out


def _own(sheet: SheetMatch) -> str:
    """The name [tables] knows a sheet by: its tab name, or a CSV file's name without .csv."""
    return Path(sheet.sheet).stem if _kind_of(sheet) == "file" else sheet.sheet


def _quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def settings_text(found: Guess, enabled: list[str], when: str) -> str:
    """evaltool.toml from a guess: each mapping with the reason it was made, and what could
    not be matched (and what to do) at the top."""
    lines = [
        f"# evaltool settings written by `evaltool init --from {found.source.name}` on {when}.",
        "# Every mapping below says why it was made: check them, then run evaltool validate.",
    ]
    if found.unmatched:
        lines.append("#")
        lines.append("# Could not match (what to do):")
        for item in found.unmatched:
            lines.append(f"#  - {item}")
    lines += [
        "",
        "[service]",
        'name = "My service"',
        'funder = "My funder"',
        "",
        "[reporting]",
        'calendar = "financial"        # "financial" (April-March) or "calendar"',
        "small_number_threshold = 5    # counts from 1 to this are shown as c in the return",
        "",
        "[instruments]",
        "# the instruments whose tables the export holds; add others as their tables are added",
        "enabled = [" + ", ".join(_quote(n) for n in enabled) + "]",
    ]
    # the reader matches names ignoring case and surrounding spaces only (data/reading.py)
    renamed = [s for s in found.sheets if _own(s).strip().lower() != s.table]
    if renamed:
        lines += ["", "# The export's sheets (or files) and the tables they hold", "[tables]"]
        lines += [f"{_quote(_own(s))} = {_quote(s.table)}  # {s.why}" for s in renamed]
    for s in found.sheets:
        mapped = [m for m in s.columns if m.header.strip().lower() != m.column]
        if mapped:
            lines += ["", f"[columns.{s.table}]"]
            lines += [f"{_quote(m.header)} = {_quote(m.column)}  # {m.why}" for m in mapped]
    for s in found.sheets:
        for column, labels in s.codes.items():
            lines += ["", f"[codes.{column}]"]
            lines += [f"{_quote(label)} = {_quote(code)}  # {why}" for label, code, why in labels]
    return "\n".join(lines) + "\n"
