"""Type conversion of whole columns: dates, numbers, yes/no, codes, ids."""

import datetime as dt

import pandas as pd
import pytest

from evaltool.data.columns import CATEGORY, DATE, ID, INTEGER, YESNO, Column, convert


def dates(values):
    return convert(pd.Series(values, dtype=object), Column("d", DATE))


@pytest.mark.parametrize(
    "raw",
    [
        "2026-04-01",
        "01/04/2026",
        "1/4/2026",
        46113,
        46113.0,
        "46113",
        dt.datetime(2026, 4, 1),
        dt.date(2026, 4, 1),
        "2026-04-01 00:00:00",
        " 01/04/2026 ",
        "01.04.2026",  # the dotted European export
        "2026-04-01T10:15:00Z",  # an ISO time stamp with its zone
        "2026-04-01T10:15:00+01:00",
    ],
)
def test_every_accepted_date_form_means_first_of_april(raw):
    # 46113 = days from Excel's day zero 1899-12-30 to 2026-04-01 (counted by hand below)
    assert (dt.date(2026, 4, 1) - dt.date(1899, 12, 30)).days == 46113
    result = dates([raw])
    assert not result.bad.iloc[0]
    assert result.values.iloc[0] == pd.Timestamp("2026-04-01")


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("31/02/2026", "impossible date"),
        ("31.02.2026", "impossible date"),
        ("13/13/2026", "impossible date"),
        ("2026-02-30", "impossible date"),
        ("01/04/26", "ambiguous two-digit year"),
        ("next week", "not a date"),
        ("3000000", "not a date in 1990-2099"),
        ("04-01-2026", "not a date"),
    ],
)
def test_bad_dates_are_errors_never_guesses(raw, reason):
    result = dates([raw])
    assert result.bad.iloc[0]
    assert pd.isna(result.values.iloc[0])
    assert result.reason.iloc[0].startswith(reason)


def test_blank_dates_are_missing_not_errors():
    result = dates([None, "", "  "])
    assert not result.bad.any()
    assert result.values.isna().all()


def test_integers_with_bounds_give_reasons():
    result = convert(
        pd.Series(["3", "2.5", "x", "11", "-1", None]), Column("n", INTEGER, min=0, max=10)
    )
    assert result.values.iloc[0] == 3
    assert result.bad.tolist() == [False, True, True, True, True, False]
    assert result.reason[result.bad].tolist() == [
        "not a whole number",
        "not a number",
        "above the highest allowed value",
        "below the lowest allowed value",
    ]


def test_yes_no_accepts_the_contract_spellings():
    result = convert(pd.Series(["Yes", "n", "TRUE", "0", "f", "maybe", None]), Column("y", YESNO))
    assert result.values.tolist()[:5] == [True, False, True, False, False]
    assert result.bad.tolist() == [False] * 5 + [True, False]


def test_codes_are_normalised_and_checked():
    result = convert(
        pd.Series(["Service", " comparison ", "Comparison Group"]),
        Column("cohort", CATEGORY, choices=("service", "comparison")),
    )
    assert result.values.tolist()[:2] == ["service", "comparison"]
    assert result.bad.tolist() == [False, False, True]


def test_ids_stay_text_with_leading_zeros():
    result = convert(pd.Series(["00123", 123, 123.0, " A7 "], dtype=object), Column("id", ID))
    assert result.values.tolist() == ["00123", "123", "123", "A7"]


@pytest.mark.parametrize("dtype", [pd.StringDtype("pyarrow"), object])
def test_id_codes_are_those_of_the_text_as_read(dtype):
    """A key's codes (for duplicates) come from the raw values' codes when reading them as
    text changed none of them (the 5-million-row clients file), and from the text otherwise:
    ' A1' and 'A1' are one id, 'none' and a blank are none."""
    clean = convert(pd.Series(["A1", "B2", "A1", None, "C3"], dtype=dtype), Column("c", ID), True)
    assert clean.codes.tolist() == [0, 1, 0, -1, 2]
    spaced = pd.Series(["A1", " A1", "B2", "none", None, "B2 "], dtype=dtype)
    assert convert(spaced, Column("c", ID), True).codes.tolist() == [0, 0, 1, -1, -1, 1]
    assert convert(pd.Series([None, None], dtype=dtype), Column("c", ID), True).codes.tolist() == [
        -1,
        -1,
    ]
