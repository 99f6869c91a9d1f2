"""Input serializers that refuse what they do not know."""

from __future__ import annotations

from rest_framework import exceptions, serializers
from rest_framework.settings import api_settings


class StrictSerializer(serializers.Serializer):
    """Input serializers refuse fields they do not know (400), so a typo is never silently ignored.

    min_fields: the fewest fields a body must send (a PATCH that changes nothing is refused); the
    schema declares it as minProperties (core.api.schema).
    """

    min_fields: int = 0
    min_fields_message = "Send at least one field to change."

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields or self.fields[key].read_only)
            if unknown:
                raise exceptions.ValidationError({key: ["This field is not accepted here."] for key in unknown})
            if len(data) < self.min_fields:
                raise exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [self.min_fields_message]})
        return super().to_internal_value(data)
