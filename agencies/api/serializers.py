"""Agencies and the signed-in user, as agency tools read them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agencies.models import Agency, ApiToken, Membership
from agencies.roles import roles_of
from core.api.views import etag_for


class AgencySerializer(serializers.ModelSerializer):
    etag = serializers.SerializerMethodField()

    class Meta:
        model = Agency
        fields = ["id", "name", "abbreviation", "parent", "cfo_act", "hisp", "active", "updated_at", "etag"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_etag(self, agency: Agency) -> str:
        return etag_for("agency", agency)


class MembershipSerializer(serializers.ModelSerializer):
    agency_abbreviation = serializers.CharField(source="agency.abbreviation", read_only=True)
    agency_name = serializers.CharField(source="agency.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["agency", "agency_abbreviation", "agency_name", "role", "title", "started_on"]
        read_only_fields = fields


class TokenSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at"]
        read_only_fields = fields


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.EmailField()
    omb_role = serializers.SerializerMethodField()
    memberships = serializers.SerializerMethodField()
    token = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ChoiceField(choices=["admin", "viewer"], allow_null=True))
    def get_omb_role(self, user) -> str | None:
        roles = roles_of(user)
        return "admin" if roles.omb_admin else "viewer" if roles.omb_viewer else None

    @extend_schema_field(MembershipSerializer(many=True))
    def get_memberships(self, user):
        memberships = Membership.objects.current().filter(user=user).select_related("agency")
        return MembershipSerializer(memberships, many=True).data

    @extend_schema_field(TokenSummarySerializer(allow_null=True))
    def get_token(self, user):
        token = self.context.get("token")
        return TokenSummarySerializer(token).data if token is not None else None
