"""Writes on a programme's configuration: profile, partner organisations, charter of confidentiality.

Every function is keyword-only, runs in one transaction, takes the acting user as ``by``, checks the
policy predicate again (the view already did: this is the second lock on the door) and writes its
journal entry in the same transaction.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from maillage import permissions as perms
from maillage.accounts.models import User
from maillage.audit import services as audit
from maillage.programmes.models import CharterSignature, CharterVersion, Membership, Organisation, Programme

PROGRAMME_FIELDS = frozenset(
    {
        "name",
        "label",
        "lead_body_type",
        "lead_body_name",
        "prior_veille_educative",
        "prior_veille_year",
        "age_min",
        "age_max",
        "eligibility_rule",
        "network_level",
    }
)
PROGRAMME_RELATIONS = frozenset({"communes", "priority_areas", "schools"})

ORGANISATION_FIELDS = frozenset(
    {"name", "kind", "school", "services", "address", "phone", "email", "website", "is_active"}
)


def _acting_membership(user: User, programme: Programme) -> Membership | None:
    """The membership in whose name ``user`` acts in ``programme`` (for the journal's role column)."""
    return perms.active_memberships(user).filter(programme=programme).order_by("starts_on", "pk").first()


def _apply(instance, changes: dict[str, Any], allowed: frozenset) -> list[str]:
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"Not editable here: {', '.join(sorted(unknown))}")
    changed = []
    for field, value in changes.items():
        if getattr(instance, field) != value:
            setattr(instance, field, value)
            changed.append(field)
    return changed


@transaction.atomic
def programme_update(*, programme: Programme, by: User, **changes: Any) -> Programme:
    """Change the programme's profile (scalar fields and its territory: communes, QPV, schools)."""
    if not perms.can_configure_programme(by, programme):
        raise PermissionDenied
    relations = {name: changes.pop(name) for name in list(changes) if name in PROGRAMME_RELATIONS}
    changed = _apply(programme, changes, PROGRAMME_FIELDS)
    if changed:
        programme.save(update_fields=[*changed, "updated_at"])
    for name, values in relations.items():
        manager = getattr(programme, name)
        wanted = {obj.pk for obj in values}
        if set(manager.values_list("pk", flat=True)) != wanted:
            manager.set(values)
            changed.append(name)
    if changed:
        audit.record(
            verb="programme.updated",
            actor=by,
            target=programme,
            programme=programme,
            membership=_acting_membership(by, programme),
            payload={"fields": sorted(changed)},
        )
    return programme


@transaction.atomic
def organisation_create(
    *,
    programme: Programme,
    by: User,
    name: str,
    kind: str,
    school=None,
    services: str = "",
    address: str = "",
    phone: str = "",
    email: str = "",
    website: str = "",
    is_active: bool = True,
) -> Organisation:
    """Add a partner organisation to the programme's directory."""
    if not perms.can_configure_programme(by, programme):
        raise PermissionDenied
    organisation = Organisation(
        programme=programme,
        name=name,
        kind=kind,
        school=school,
        services=services,
        address=address,
        phone=phone,
        email=email,
        website=website,
        is_active=is_active,
    )
    organisation.save(force_insert=True)
    audit.record(
        verb="organisation.created",
        actor=by,
        target=organisation,
        membership=_acting_membership(by, programme),
        payload={"name": name, "kind": kind},
    )
    return organisation


@transaction.atomic
def organisation_update(*, organisation: Organisation, by: User, **changes: Any) -> Organisation:
    """Change a partner organisation's details (name, type, contacts, services, active or not)."""
    if not perms.can_configure_programme(by, organisation.programme):
        raise PermissionDenied
    changed = _apply(organisation, changes, ORGANISATION_FIELDS)
    if changed:
        organisation.save(update_fields=[*changed, "updated_at"])
        audit.record(
            verb="organisation.updated",
            actor=by,
            target=organisation,
            membership=_acting_membership(by, organisation.programme),
            payload={"fields": sorted(changed)},
        )
    return organisation


@transaction.atomic
def charter_publish(*, programme: Programme, by: User, title: str, body: str) -> CharterVersion:
    """Publish a new version of the charter; from now on members are asked to sign this one."""
    if not perms.can_publish_charter(by, programme):
        raise PermissionDenied
    # Lock the programme row so that two publications in a race do not take the same number.
    Programme.objects.select_for_update().filter(pk=programme.pk).first()
    last = CharterVersion.objects.filter(programme=programme).aggregate(last=Max("number"))["last"] or 0
    version = CharterVersion(
        programme=programme,
        number=last + 1,
        title=title,
        body=body,
        published_at=timezone.now(),
        published_by=by,
    )
    version.save(force_insert=True)
    audit.record(
        verb="charter.published",
        actor=by,
        target=version,
        membership=_acting_membership(by, programme),
        payload={"number": version.number},
    )
    return version


@transaction.atomic
def charter_sign(
    *, membership: Membership, by: User, version: CharterVersion | None = None, institution: str | None = None
) -> CharterSignature:
    """Sign a charter version (the current one by default) for one's own membership.

    Idempotent: signing a version already signed returns the existing signature and writes nothing.
    """
    if not perms.can_sign_charter(by, membership):
        raise PermissionDenied
    if version is None:
        version = (
            CharterVersion.objects.published()
            .filter(programme_id=membership.programme_id)
            .order_by("-number")
            .first()
        )
    if version is None or version.published_at is None or version.programme_id != membership.programme_id:
        raise ValueError("Only a published version of the membership's own programme can be signed.")
    if institution is None:
        institution = membership.organisation.name if membership.organisation_id else ""
    signature, created = CharterSignature.objects.get_or_create(
        version=version, membership=membership, defaults={"institution": institution}
    )
    if created:
        audit.record(
            verb="charter.signed",
            actor=by,
            target=signature,
            membership=membership,
            payload={"version": version.number, "institution": institution},
        )
    return signature


@transaction.atomic
def programme_setup(*, programme: Programme, by: User) -> Programme:
    """Give a new programme what it cannot work without: its default lists and a published charter.

    Names are shown only to members who signed the current charter, so a programme starts with the
    seeded charter (the usual clauses of PRE charters), which its coordinator may replace at once.
    Idempotent.
    """
    from maillage.demo.charter import CHARTER_BODY, CHARTER_TITLE
    from maillage.programmes.defaults import ensure_default_lists

    created = ensure_default_lists(programme)
    version = None
    if not CharterVersion.objects.published().filter(programme=programme).exists():
        version = CharterVersion.objects.create(
            programme=programme,
            number=(
                CharterVersion.objects.filter(programme=programme).aggregate(last=Max("number"))["last"] or 0
            )
            + 1,
            title=CHARTER_TITLE,
            body=CHARTER_BODY,
            published_at=timezone.now(),
            published_by=by if getattr(by, "is_authenticated", False) else None,
        )
    if created or version:
        audit.record(
            verb="programme.set_up",
            actor=by,
            target=programme,
            payload={"list_items": created, "charter": version.number if version else None},
        )
    return programme
