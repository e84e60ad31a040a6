"""A cache that lives exactly as long as one request, for facts read again and again while it runs.

The access policy reads the user's memberships (with the charter's signature) and, on a pathway page,
the few rows that decide what the reader may see of that pathway; a page asks for them through a dozen
predicates and scopes. ``RequestCacheMiddleware`` opens a fresh cache for each request (a context
variable, set on the way in and reset on the way out); ``memo(key, compute)`` returns the value
computed once in that request.

Outside a request (tests calling the policy directly, management commands, the task worker) there is
no cache at all: every call computes afresh, so changing a membership between two calls is always
seen. Inside a request, a write to a row the policy reads calls ``forget()`` (the policy connects the
signals), so a page that changes a case team and then checks access again sees the change too.
"""

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")

_store: ContextVar[dict | None] = ContextVar("maillage_request_cache", default=None)


@contextmanager
def request_scope() -> Iterator[dict]:
    """Open a fresh cache for the duration of the block (a request), then drop it."""
    store: dict = {}
    token = _store.set(store)
    try:
        yield store
    finally:
        _store.reset(token)


def active() -> bool:
    """Whether a request cache is open in this context."""
    return _store.get() is not None


def memo(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()`` once per request for ``key``; every time when no request cache is open."""
    store = _store.get()
    if store is None:
        return compute()
    try:
        return store[key]
    except KeyError:
        value = store[key] = compute()
        return value


def peek(key: Hashable, default=None):
    """The value cached for ``key`` in the current request, or ``default`` (never computes)."""
    store = _store.get()
    return default if store is None else store.get(key, default)


def put(key: Hashable, value) -> None:
    """Cache ``value`` for ``key`` in the current request (nothing outside a request)."""
    store = _store.get()
    if store is not None:
        store[key] = value


def forget() -> None:
    """Drop everything cached in the current request (a row the cached facts came from changed)."""
    store = _store.get()
    if store is not None:
        store.clear()


class RequestCacheMiddleware:
    """Open the request cache around everything that runs for the request (views, templates, gates)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_scope():
            return self.get_response(request)
