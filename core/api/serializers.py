"""Input serializers that refuse what they do not know."""

from __future__ import annotations

from rest_framework import exceptions, serializers


class StrictSerializer(serializers.Serializer):
    """Input serializers refuse fields they do not know (400), so a typo is never silently ignored."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields or self.fields[key].read_only)
            if unknown:
                raise exceptions.ValidationError({key: ["This field is not accepted here."] for key in unknown})
        return super().to_internal_value(data)
