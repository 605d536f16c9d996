"""The example plugin checked with the harness evaltool ships for plugin authors."""

from evaltool.testing import check_instrument, instrument_from_registry


def test_parenting_confidence_honours_the_contract():
    check_instrument(instrument_from_registry("parenting-confidence"))
