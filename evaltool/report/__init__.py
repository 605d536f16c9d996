"""Writing results: disclosure control, safe cell values, and the Excel funder return."""
