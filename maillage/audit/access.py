"""Journaling of reads: every view of nominative data leaves one entry per object shown.

Views are classified with a decorator, and a test fails when a URL pattern's view is not:

* ``@sensitive("child.viewed")`` — the page shows nominative data; the view calls
  ``record_access(request, obj, ...)`` (detail pages) or ``record_access_many(request, objs)``
  (lists: one entry per row shown) before rendering;
* ``@not_sensitive`` — the page shows no nominative data (configuration, aggregates, forms that
  show nothing of a child before they are filled).
"""

from collections.abc import Callable, Iterable

from maillage.audit.services import record, record_many

SENSITIVE = "nominative"
NOT_SENSITIVE = "none"


def sensitive(verb: str) -> Callable:
    def decorate(view):
        view.sensitivity = SENSITIVE
        view.access_verb = verb
        return view

    return decorate


def not_sensitive(view):
    view.sensitivity = NOT_SENSITIVE
    return view


def _membership(request, programme_id):
    from maillage import permissions as perms

    # The user's memberships in force, read once per request by the policy.
    here = [m for m in perms.memberships_in_force(request.user) if m.programme_id == programme_id]
    return min(here, key=lambda m: m.pk, default=None)


def record_access(request, obj, *, verb: str, circles: Iterable[str] = (), identity: bool = True, **payload):
    """One entry: who saw which object, with the circles of the written items shown."""
    programme_id = getattr(obj, "programme_id", None)
    return record(
        verb=verb,
        actor=request.user,
        target=obj,
        membership=_membership(request, programme_id) if programme_id else None,
        payload={"circles": sorted(set(circles)), "identity": identity, **payload},
        request=request,
    )


def record_access_many(request, objects, *, verb: str, identity: bool = True):
    """One entry per object shown on a list page, written in constant queries."""
    objects = list(objects)
    if not objects:
        return []
    programme_ids = {getattr(o, "programme_id", None) for o in objects}
    memberships = {pid: _membership(request, pid) for pid in programme_ids if pid}
    return record_many(
        [
            {
                "verb": verb,
                "actor": request.user,
                "target": obj,
                "membership": memberships.get(getattr(obj, "programme_id", None)),
                "payload": {"identity": identity, "list": True},
                "request": request,
            }
            for obj in objects
        ]
    )
