"""The Before and after sheet's interval and mean change give back who improved where the
split is hidden (adversary 6, 2026-12-07): each expected figure is worked out by hand."""

from __future__ import annotations

import math

import pandas as pd

from evaltool.report.before_after_tables import comparison_tables
from evaltool.report.disclosure import protect

# Alcohol and drug use in a 20-client service's first return: 6 pairs, changes summing to 6
# (mean 1.00), 3 improved, 2 unchanged, 1 worse on a 1-10 scale, the 95% CI -0.76 to 2.76
ROW = {
    "instrument": "star",
    "label": "Alcohol and drug use",
    "direction": "higher is better",
    "n": 6,
    "goals": None,
    "baseline_mean": 4.33,
    "latest_mean": 5.33,
    "mean_change": 1.0,
    "ci_low": -0.76,
    "ci_high": 2.76,
    "t": 1.46,
    "df": 5,
    "p_t": 0.2,
    "wilcoxon_v": 9.0,
    "p_wilcoxon": 0.3,
    "dz": 0.6,
    "g": 0.5,
    "improved": 3,
    "unchanged": 2,
    "worse": 1,
    "reliable_improved": None,
    "reliable_worse": None,
    "p_holm": 0.2,
    "note": "",
}


def _main(whole: bool):
    main, _ = comparison_tables(
        pd.DataFrame([ROW]), {"star": "Domains"}, 28, {"star": (1, 10)} if whole else None
    )
    return main[0]


def test_the_interval_is_hidden_with_the_split():
    # the spread of the changes from the interval: half-width 1.76 = t(0.975, 5) x sd / sqrt 6
    # gives sd 1.68 and a sum of squares of 20 with the sum 6: with whole changes of -9..9 only
    # 2-4-0, 3-2-1, 4-0-2, 4-1-1 or 5-0-1 improved-unchanged-worse remain (worse 0 to 2)
    sd = 1.76 * math.sqrt(6) / 2.5706
    assert round(5 * sd**2 + 6**2 / 6) == 20
    shown = protect([_main(True)], 5)["compare-star"].values
    assert shown.at[0, "Worse"] != 1 and shown.at[0, "Unchanged"] != 2  # hidden (c or range)
    assert shown.at[0, "95% CI low"] == "c" and shown.at[0, "95% CI high"] == "c"
