"""Analyses that compute and render nothing: activity by quarter (``activity``), before/after
comparison (``before_after``) and time to next proceedings (``survival``). The report package
lays their results out."""
