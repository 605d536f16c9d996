"""A test harness for instrument plugins, shipped with evaltool (also a pytest plugin).

    from evaltool.testing import check_instrument
    def test_my_instrument():
        check_instrument(MyKind.from_definition({...}, "test"))

``check_instrument`` makes a valid synthetic table from the instrument's own table spec, runs
it through evaluation's validator, and checks every part of the contract: the table spec, the
client-level scores, the measures and readings, the summaries (including that no client id
leaks into a funder table), the definitions and the headline (a cited count printed as a
whole number, never "110.0 clients"). Pass ``data`` to use your own.
Within pytest the ``evaltool_check`` fixture gives the same function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from evaltool.instruments.base import Instrument

#: a long readings table; a wide one has the first three and a column per measure instead
READING_COLUMNS = ["unit", "client_id", "measure", "date", "value"]


class ContractViolation(AssertionError):
    """An instrument does not honour the plugin contract."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ContractViolation(message)


def instrument_from_registry(name: str) -> Instrument:
    """An installed instrument by name (plugins and definition files included)."""
    from evaltool.instruments.registry import build_registry

    return build_registry().get(name)


def synthetic_clients(n: int = 40, seed: int = 7) -> pd.DataFrame:
    """A typed clients table: ids with leading zeros, all started, some closed."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-04-01") + pd.to_timedelta(rng.integers(0, 200, n), unit="D")
    end = start + pd.to_timedelta(rng.integers(200, 700, n), unit="D")
    end = end.where(end <= pd.Timestamp("2026-03-31"))
    return pd.DataFrame(
        {
            "_row": range(2, n + 2),
            "client_id": [f"{i:05d}" for i in range(1, n + 1)],
            "referral_date": start - pd.Timedelta(days=14),
            "start_date": start,
            "end_date": end,
            "cohort": "service",
        }
    )


def synthetic_table(
    instrument: Instrument, clients: pd.DataFrame, rows_per_client: int = 4, seed: int = 11
) -> pd.DataFrame:
    """Raw cells (as a spreadsheet would give them) valid for the instrument's table spec."""
    import numpy as np
    import pandas as pd

    from evaltool.data.columns import CATEGORY, DATE, ID, INTEGER, NUMBER, YESNO

    rng = np.random.default_rng(seed)
    spec = instrument.table()
    n = len(clients) * rows_per_client
    owner = np.repeat(np.arange(len(clients)), rows_per_client)
    seq = np.tile(np.arange(rows_per_client), len(clients))
    base = clients["start_date"].to_numpy()[owner]
    out: dict[str, object] = {}
    first_date = True
    for col in spec.columns:
        if col.type == ID:
            out[col.name] = clients["client_id"].to_numpy()[owner]
        elif col.type == DATE:
            offset = seq * 90 + (0 if first_date else 30)
            first_date = False
            out[col.name] = (
                pd.Series(base + pd.to_timedelta(offset, unit="D"))
                .dt.strftime("%d/%m/%Y")
                .to_numpy()
            )
        elif col.type in (INTEGER, NUMBER):
            lo = col.min if col.min is not None else 0
            hi = col.max if col.max is not None else lo + 10
            out[col.name] = rng.integers(int(np.ceil(lo)), int(np.floor(hi)) + 1, n)
        elif col.type == CATEGORY:
            choices = col.choices or ("other",)
            out[col.name] = rng.choice(list(choices), n)
        elif col.type == YESNO:
            out[col.name] = rng.choice(["yes", "no"], n)
        else:
            out[col.name] = [
                f"G{i % rows_per_client + 1}" if "id" in col.name else "text" for i in range(n)
            ]
    frame = pd.DataFrame(out)
    for key in spec.unique:  # make composite keys unique: one row per client and sequence
        if key not in ("client_id",) and spec.column(key).type not in (DATE,):
            frame[key] = [f"G{s + 1}" for s in seq]
    return frame.astype(object)


def check_instrument(
    instrument: Instrument,
    data: pd.DataFrame | None = None,
    clients: pd.DataFrame | None = None,
    period: str = "2025-Q4",
) -> None:
    """Raise ContractViolation where ``instrument`` breaks the plugin contract."""
    import pandas as pd

    from evaltool.config import Settings
    from evaltool.data.checking import check_table
    from evaltool.data.reading import ROW, RawTable
    from evaltool.data.specs import TableSpec, handed_over
    from evaltool.instruments.base import Context, Definition, Measure
    from evaltool.instruments.results import Headline, SummaryTable
    from evaltool.periods import parse_period

    name = type(instrument).__name__
    _require(bool(getattr(instrument, "kind", "")), f"{name}: set a class attribute `kind`")
    _require(bool(instrument.name), f"{name}: the instrument has no name")
    spec = instrument.table()
    _require(isinstance(spec, TableSpec), f"{name}.table() must return a TableSpec")
    _require(len(spec.columns) > 0, f"{name}.table() declares no columns")
    _require(
        len(set(spec.column_names)) == len(spec.column_names),
        f"{name}.table() repeats a column name",
    )
    if spec.client_linked:
        _require(
            "client_id" in spec.column_names,
            f"{name}: a client-linked table needs a client_id column",
        )
    for key in spec.unique:
        _require(key in spec.column_names, f"{name}: unique key '{key}' is not a column")

    clients = clients if clients is not None else synthetic_clients()
    raw = data if data is not None else synthetic_table(instrument, clients)
    raw = raw.reset_index(drop=True).astype(object)
    raw[ROW] = raw.index + 2
    typed, problems = check_table(RawTable(spec.name, raw, "harness.xlsx", spec.name), spec)
    errors = [p for p in problems if p.severity == "error"]
    _require(
        not errors,
        f"{name}: the harness's valid data failed validation: "
        + "; ".join(f"row {p.row} {p.column}: {p.message}" for p in errors[:5]),
    )

    p = parse_period(period, "financial")
    ctx = Context(Settings(), p, p.end, clients)
    typed = handed_over(typed, spec, p.end)  # as the core hands it over: nothing after the period
    scored = instrument.score(typed, ctx)
    _require(isinstance(scored, pd.DataFrame), f"{name}.score() must return a DataFrame")
    if spec.client_linked:
        _require(
            list(scored.columns[:1]) == ["client_id"],
            f"{name}.score(): the first column must be client_id, got {list(scored.columns[:1])}",
        )
        _require(
            not scored["client_id"].duplicated().any(),
            f"{name}.score(): one row per client expected",
        )
        _require(
            set(scored["client_id"]) <= set(typed["client_id"]),
            f"{name}.score(): client ids not in the input",
        )
        _require(len(scored) > 0, f"{name}.score() returned no rows for valid data")
    else:
        _require(
            "client_id" not in scored.columns,
            f"{name}.score(): an anonymous table must not gain a client_id",
        )

    measures = instrument.measures()
    _require(all(isinstance(m, Measure) for m in measures), f"{name}.measures(): Measure items")
    for m in measures:
        _require(
            m.unit in ("client", "goal"),
            f"{name}: measure {m.name} unit must be 'client' or 'goal'",
        )
        if m.reliability is not None:
            _require(
                0 < m.reliability < 1,
                f"{name}: measure {m.name} reliability must be between 0 and 1",
            )
    readings = instrument.readings(typed)
    declared = {m.name for m in measures}
    columns = list(readings.columns)
    wide = columns[:3] == ["unit", "client_id", "date"] and "measure" not in columns
    _require(
        columns == READING_COLUMNS or (wide and len(columns) > 3),
        f"{name}.readings() columns must be {READING_COLUMNS} (long), or unit, client_id, "
        f"date and a column per measure (wide); got {columns}",
    )
    if measures:
        _require(len(readings) > 0, f"{name}.readings() is empty for valid data")
        unknown = set(columns[3:] if wide else readings["measure"]) - declared
        _require(not unknown, f"{name}.readings(): undeclared measures {sorted(unknown)}")

    tables = instrument.summarise(typed, ctx)
    _require(
        isinstance(tables, list) and tables and all(isinstance(t, SummaryTable) for t in tables),
        f"{name}.summarise() must return a non-empty list of SummaryTable",
    )
    ids = set(clients["client_id"].astype(str))
    for t in tables:
        where = f"{name}.summarise() table '{t.name}'"
        cols = set(t.data.columns)
        bases = [b for v in t.derived.values() for b in ((v,) if isinstance(v, str) else v)]
        for c in (*t.counts, *t.percent, *t.derived, *bases):
            _require(c in cols, f"{where}: column '{c}' is declared but missing")
        for c in t.counts:
            values = pd.to_numeric(t.data[c], errors="coerce").dropna()
            _require(
                bool((values >= 0).all() and (values % 1 == 0).all()),
                f"{where}: counts in '{c}' must be whole numbers of at least 0",
            )
        for c in t.percent:
            values = pd.to_numeric(t.data[c], errors="coerce").dropna()
            _require(
                bool(((values >= 0) & (values <= 1)).all()),
                f"{where}: shares in '{c}' must be from 0 to 1",
            )
        for c in t.data.columns:  # whole numbers that are not declared escape suppression
            if c not in t.counts and pd.api.types.is_integer_dtype(t.data[c]):
                _require(
                    False,
                    f"{where}: column '{c}' holds whole numbers but is not declared in "
                    "counts; declare it (it is then protected) or make it a decimal or text",
                )
        text = {str(v) for v in t.data.astype(str).to_numpy().ravel()}
        _require(not (text & ids), f"{where}: client ids must never appear in a summary")
    headline = instrument.headline(typed, ctx)
    _require(
        isinstance(headline, str | Headline), f"{name}.headline() must return a Headline or text"
    )
    if isinstance(headline, str):
        import re

        _require(
            not re.search(r"\d", headline),
            f"{name}.headline() returned text with a figure ({headline!r}): a figure must "
            "be a Cite of a cell of summarise()'s tables, so that it is protected with it",
        )
    if isinstance(headline, Headline):
        names = {t.name: t for t in tables}
        for cite in headline.cites:
            _require(
                cite.table in names and cite.column in names[cite.table].data.columns,
                f"{name}.headline() cites {cite.table!r} column {cite.column!r}, which "
                "summarise() does not return",
            )
            _require(
                0 <= cite.row < len(names[cite.table].data),
                f"{name}.headline() cites row {cite.row} of {cite.table!r}, which has "
                f"{len(names[cite.table].data)} rows",
            )
            if cite.column in names[cite.table].counts:
                _require(
                    _whole(cite.format_for(names[cite.table])),
                    f"{name}.headline(): the count {cite.column!r} printed with decimals "
                    f"(fmt {cite.fmt!r} makes 110 read "
                    f"{_sample(cite.format_for(names[cite.table]))!r}); leave fmt out (a "
                    "count is then a whole number, e.g. 1,234) or give one such as '{:,.0f}'",
                )
    words = headline if isinstance(headline, str) else f"{headline.text} {headline.empty}"
    _require(not any(i in words for i in ids), f"{name}.headline() shows a client id")
    defs = instrument.definitions()
    _require(
        bool(defs) and all(isinstance(d, Definition) for d in defs),
        f"{name}.definitions() must return at least one Definition",
    )
    if measures and len(readings):
        latest = pd.to_datetime(readings["date"]).max()
        _require(
            bool(pd.isna(latest) or latest <= pd.Timestamp(p.end)),
            f"{name}.readings() has a reading dated {latest.date()}, after the period end "
            f"{p.end}: date readings by the table's time_column ({spec.time_column}), which "
            "the core cuts at the period end",
        )
    _check_evaluation(instrument, typed, ctx, scored, readings, tables, headline)


def _sample(fmt: str) -> str:
    """A count of 110 as ``fmt`` prints it (or the error it raises)."""
    try:
        return fmt.format(110.0)
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        return f"{type(exc).__name__}: {exc}"


def _whole(fmt: str) -> bool:
    """Does ``fmt`` print a whole count without decimals (110 -> '110', not '110.0')?"""
    import re

    text = _sample(fmt)
    return "Error" not in text and re.search(r"\d[.]\d", text) is None and "110" in text


def _check_evaluation(instrument, typed, ctx, scored, readings, tables, headline):
    """The core calls ``evaluate`` only: an override must give what the parts give."""
    import pandas as pd

    from evaltool.instruments.results import Evaluation

    name = type(instrument).__name__
    ev = instrument.evaluate(typed, ctx)
    _require(isinstance(ev, Evaluation), f"{name}.evaluate() must return an Evaluation")
    _require(
        ev.instrument == instrument.name,
        f"{name}.evaluate(): Evaluation.instrument must be {instrument.name!r}",
    )

    def same(a, b) -> bool:
        try:
            pd.testing.assert_frame_equal(
                a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False
            )
            return True
        except AssertionError:
            return False

    _require(
        isinstance(ev.scores, pd.DataFrame) and same(ev.scores, scored),
        f"{name}.evaluate(): its scores differ from score()'s",
    )
    if instrument.measures():
        _require(
            isinstance(ev.readings, pd.DataFrame) and same(ev.readings, readings),
            f"{name}.evaluate(): its readings differ from readings()'s",
        )
    _require(
        [t.name for t in ev.tables] == [t.name for t in tables]
        and all(same(a.data, b.data) for a, b in zip(ev.tables, tables, strict=True)),
        f"{name}.evaluate(): its tables differ from summarise()'s",
    )
    _require(ev.headline == headline, f"{name}.evaluate(): its headline differs from headline()'s")


try:  # pytest is a test extra: the harness works without it, the fixture only with it
    import pytest
except ImportError:  # pragma: no cover
    pytest = None

if pytest is not None:

    @pytest.fixture
    def evaltool_check():
        """The instrument contract checker, as a pytest fixture."""
        return check_instrument
