"""The return's Kaplan-Meier chart data: exact points, bounded size, small numbers left out."""

from __future__ import annotations

import numpy as np
import pytest

from evaltool.report.km_chart import step_points
from evaltool.survival import KaplanMeier


def test_a_small_curve_by_hand():
    # times 2, 3, 3, 5+, 7, 9+ (events 1, 1, 1, 0, 1, 0); threshold 1:
    # at 2: 6 at risk, S = 5/6; at 3: 5 at risk, 2 events, S = 5/6 * 3/5 = 1/2;
    # at 7: 2 at risk, S = 1/4; the curve runs on to 7, the last time with 2 still followed
    km = KaplanMeier().fit(np.array([2, 3, 3, 5, 7, 9]), np.array([1, 1, 1, 0, 1, 0]))
    p = step_points(km, threshold=1)
    assert p["days"] == [0, 2, 2, 3, 3, 7, 7]
    assert p["incidence"] == pytest.approx([0, 0, 1 / 6, 1 / 6, 1 / 2, 1 / 2, 3 / 4])
    # threshold 2: the step at 7 (2 at risk) is left out; followed up to 5 with 3 at risk
    p = step_points(km, threshold=2)
    assert p["days"] == [0, 2, 2, 3, 3, 5]
    assert p["incidence"][-1] == pytest.approx(1 / 2)


def test_a_national_curve_is_thinned_with_exact_points_and_bounded_delay():
    rng = np.random.default_rng(7)
    time = rng.integers(1, 2500, 40_000)
    event = (rng.random(40_000) < 0.3).astype(int)
    km = KaplanMeier().fit(time, event)
    p = step_points(km, threshold=5, max_steps=200)
    steps = np.array(p["days"][2::2])
    assert 150 <= len(steps) <= 200
    exact = dict(zip(km.table_["time"], 1 - km.table_["survival"], strict=True))
    for t, v in zip(p["days"][2::2], p["incidence"][2::2], strict=False):
        if t in exact:
            assert v == pytest.approx(exact[t], abs=1e-15)
    end = np.sort(time)[-6]
    for t in km.table_["time"][km.table_["at_risk"] > 5]:
        drawn = steps[steps >= t].min()  # every event is in a step drawn at or after it...
        assert drawn - t < end / 200  # ...and less than one span of the time axis later
