"""config.compiled: a read compiled once answers each value with its own rows, and refuses to keep a date."""

import pytest
from django.utils import timezone

from agencies.models import Agency
from config.compiled import CompiledRead
from tests import factories


def test_each_call_reads_its_own_value_from_the_kept_sql(db):
    treasury = factories.AgencyFactory(name="Treasury", abbreviation="TRS")
    labor = factories.AgencyFactory(name="Labor", abbreviation="DOL")
    by_abbreviation = CompiledRead(
        Agency,
        lambda abbreviation: Agency.objects.filter(abbreviation=abbreviation).values_list("pk", "name"),
        slot="\x00",
    )
    assert by_abbreviation.rows("TRS") == [(treasury.pk, "Treasury")]
    assert by_abbreviation.rows("DOL") == [(labor.pk, "Labor")]
    assert by_abbreviation.rows("NONE") == []


def test_a_read_with_a_date_in_its_sql_is_refused(db):
    frozen = CompiledRead(
        Agency, lambda name: Agency.objects.filter(name=name, created_at__lte=timezone.now()), slot="\x00"
    )
    with pytest.raises(ValueError, match="slot only, not a date"):
        frozen.rows("Treasury")
