"""Agencies, and who belongs to which agency in which role."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .querysets import AgencyQuerySet, MembershipQuerySet


class Agency(models.Model):
    """A federal agency or sub-agency (IRS under Treasury) that cards are issued to."""

    name = models.CharField(max_length=200, unique=True)
    abbreviation = models.CharField(max_length=20, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="sub_agencies")
    cfo_act = models.BooleanField("CFO Act agency", default=False)
    hisp = models.BooleanField("high-impact service provider (HISP)", default=False)
    active = models.BooleanField(default=True)
    certification_required = models.BooleanField(
        default=False,
        help_text="When on, a delegate's update is a draft until the deputy secretary certifies it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AgencyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"
        constraints = [
            models.CheckConstraint(
                condition=~Q(abbreviation=""),
                name="agency_abbreviation_not_blank",
                violation_error_message="An agency needs an abbreviation.",
            ),
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")),
                name="agency_not_its_own_parent",
                violation_error_message="An agency cannot be its own parent.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.abbreviation})"

    @property
    def slug(self) -> str:
        return self.abbreviation.lower()


class Role(models.TextChoices):
    DEPUTY_SECRETARY = "deputy_secretary", "Deputy secretary"
    DELEGATE = "delegate", "Delegate"
    VIEWER = "viewer", "Viewer"


class Membership(models.Model):
    """A user's role in one agency. A membership with no end date is current."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    title = models.CharField(
        max_length=120, blank=True, help_text="For example: chief of staff, performance improvement officer."
    )
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["agency__name", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency"],
                condition=Q(role="deputy_secretary", ended_on__isnull=True),
                name="one_current_deputy_secretary_per_agency",
                violation_error_message="This agency already has a current deputy secretary.",
            ),
            models.UniqueConstraint(
                fields=["user", "agency"],
                condition=Q(ended_on__isnull=True),
                name="one_current_membership_per_user_and_agency",
                violation_error_message="This person already has a current role in this agency.",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True)
                | Q(started_on__isnull=True)
                | Q(ended_on__gte=models.F("started_on")),
                name="membership_ends_after_it_starts",
                violation_error_message="A membership cannot end before it starts.",
            ),
        ]
        indexes = [models.Index(fields=["user", "ended_on"], name="membership_user_current")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}, {self.agency.abbreviation}"


class OmbRole(models.Model):
    """A site-wide role at OMB: admins issue and review cards; viewers read everything."""

    class Kind(models.TextChoices):
        ADMIN = "admin", "OMB admin"
        VIEWER = "viewer", "OMB viewer"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="omb_role")
    kind = models.CharField(max_length=10, choices=Kind.choices)

    class Meta:
        verbose_name = "OMB role"

    def __str__(self) -> str:
        return f"{self.user} — {self.get_kind_display()}"


class ApiTokenQuerySet(models.QuerySet):
    def active(self, now=None) -> "ApiTokenQuerySet":
        from django.utils import timezone

        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class ApiToken(models.Model):
    """A personal API token for an agency tool. Only a SHA-256 hash of the secret is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, such as 'Treasury tracker sync'.")
    prefix = models.CharField(max_length=12, help_text="The first characters of the token, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    # Not a column: set by tokens.token_authenticate when this request recorded the token's use,
    # read by the audit log (audit.middleware).
    use_recorded = False

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"
        indexes = [models.Index(fields=["user", "revoked_at"], name="apitoken_user_revoked")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def throttle_ident(self) -> str:
        """The API throttle's budget for this token; the hash prefix keeps a new token apart from an
        old row's with the same id (core.api.throttling reads it from request.auth)."""
        return f"token-{self.pk}-{self.key_hash[:12]}"
