"""The API's filter backend: django-filter's, skipped when the request names none of its filters.

A FilterSet deep-copies its filters, builds a form and evaluates the choice querysets of its
relation filters on every request; for the plain `GET /api/v1/<list>/` (most requests) that was a
few milliseconds spent filtering by nothing. The answer is the same either way."""

from django_filters.rest_framework import DjangoFilterBackend


class FilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        names = tuple(filterset_class.base_filters)
        # A filter may read more than its own name (a range's `_min`/`_after`): match on the prefix.
        if not any(key.startswith(names) for key in request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)
