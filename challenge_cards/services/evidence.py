"""Evidence on a card: a checked file (type, size) or a link."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from .. import permissions
from ..domain import EVIDENCE_MAX_BYTES, EVIDENCE_TYPES
from ..models import ChallengeCard, UpdateKind
from ._common import _lock_card, _record, on_behalf_of_for


@transaction.atomic
def evidence_add(*, actor, card: ChallengeCard | int, title: str, file=None, url: str = ""):
    """Attach a file (type and size checked, stored under a random name) or a link to a card."""
    from ..models import Evidence

    card = _lock_card(card)
    if not permissions.can_update_card(actor, card):
        raise PermissionDenied("You cannot add evidence to this card.")
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "Give the evidence a title."
    if bool(file) == bool(url.strip()):
        errors["file"] = "Attach a file or give a link, not both."
    content_type = ""
    if file:
        extension = file.name.rsplit(".", 1)[-1].lower() if "." in file.name else ""
        if extension not in EVIDENCE_TYPES:
            errors["file"] = f"Attach one of these file types: {', '.join(sorted(set(EVIDENCE_TYPES)))}."
        elif file.size > EVIDENCE_MAX_BYTES:
            errors["file"] = "The file is larger than 10 MB."
        else:
            content_type = EVIDENCE_TYPES[extension]
    if errors:
        raise ValidationError(errors)
    on_behalf_of = on_behalf_of_for(actor, card.agency)
    evidence = Evidence(
        card=card,
        title=title.strip(),
        url=url.strip(),
        added_by=actor,
        on_behalf_of=on_behalf_of,
    )
    if file:
        evidence.original_name = file.name[-255:]
        evidence.size = file.size
        evidence.content_type = content_type
        evidence.file = file
    evidence.full_clean(exclude=["file"], validate_constraints=False)
    evidence.save()
    _record(
        card=card,
        kind=UpdateKind.UPDATE,
        actor=actor,
        changes={"evidence": [None, evidence.title]},
        on_behalf_of=on_behalf_of,
    )
    return evidence
