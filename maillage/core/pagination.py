"""Pagination of ranked search results without running the search twice."""

from django.db.models import QuerySet


class Ranked:
    """The rows of a ranked search, as Django's ``Paginator`` wants them: a length and slices.

    The search ran once and gave the ids in their order (at most a bounded number of them); the
    paginator counts them with ``len`` — no ``COUNT(*)`` over the search — and each page reads only
    its own rows, by primary key, from ``queryset``: the scoped queryset of the view, with its
    ``select_related`` and annotations, so a page never holds a row the scope does not hold.
    ``truncated`` says that more rows matched than ``ids`` holds.
    """

    def __init__(self, queryset: QuerySet, ids: list[int], *, truncated: bool = False):
        self.queryset = queryset
        self.ids = list(ids)
        self.truncated = truncated

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1 or None][0]
        ids = self.ids[index]
        if not ids:
            return []
        rows = {row.pk: row for row in self.queryset.filter(pk__in=ids)}
        return [rows[pk] for pk in ids if pk in rows]
