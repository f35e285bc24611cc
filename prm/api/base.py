"""The API's base classes. They own the tenant scope: a subclass cannot override
`get_queryset` or `get_object` (it fails at class creation); it narrows with `narrow_queryset`."""

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied

from partners.access import TenantQuerySet


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class ValidationErrorSerializer(ErrorSerializer):
    """Field errors are added at the top level under each field's name."""

    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


ERRORS_READ = {
    401: OpenApiResponse(ErrorSerializer, description="Not authenticated."),
    404: OpenApiResponse(ErrorSerializer, description="Absent, or not visible to the caller."),
}
ERRORS_WRITE = ERRORS_READ | {
    400: OpenApiResponse(ValidationErrorSerializer, description="Invalid input; nothing was written."),
    403: OpenApiResponse(ErrorSerializer, description="Visible, but the caller may not do this."),
}


def documented_errors(cls):
    """Add the standard error responses to every action of a viewset in the OpenAPI schema."""
    actions = {}
    for name in ("list", "retrieve"):
        if hasattr(cls, name):
            actions[name] = extend_schema(
                responses={200: cls.serializer_class, **ERRORS_READ} if name == "retrieve" else None
            )
    for name, code in (("create", 201), ("update", 200), ("partial_update", 200), ("destroy", 204)):
        if hasattr(cls, name):
            actions[name] = extend_schema(
                responses={code: (cls.serializer_class if code != 204 else None), **ERRORS_WRITE}
            )
    actions = {k: v for k, v in actions.items() if k != "list"}
    return extend_schema_view(**actions)(cls)


class ScopedViewSetMixin:
    """Reads go through `Model.objects.for_user(request.user)`; what is out of scope is a 404."""

    #: The model whose scoped manager the viewset reads.
    model = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in ("get_queryset", "get_object"):
            if name in cls.__dict__:
                raise TypeError(f"{cls.__name__} may not override {name}; narrow with narrow_queryset().")
        if "queryset" in cls.__dict__:
            raise TypeError(f"{cls.__name__} sets `model`, not `queryset`.")

    def narrow_queryset(self, queryset):
        """Hook: select_related, annotations, action-specific narrowing."""
        return queryset

    def get_queryset(self):
        manager = self.model.objects
        queryset = manager.for_user(self.request.user)
        if not isinstance(queryset, TenantQuerySet):
            raise TypeError(f"{self.model.__name__}.objects is not tenant-scoped")
        return self.narrow_queryset(queryset)

    def get_object(self):
        queryset = self.filter_queryset(self.get_queryset())
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        try:
            obj = queryset.get(**{self.lookup_field: self.kwargs[lookup_url_kwarg]})
        except (self.model.DoesNotExist, ValueError, TypeError):
            raise Http404
        self.check_object_permissions(self.request, obj)
        return obj

    def http_method_not_allowed(self, request, *args, **kwargs):
        # A verb an object does not offer is a 405 only for objects the caller may see.
        if request.user and request.user.is_authenticated and (self.lookup_url_kwarg or self.lookup_field) in kwargs:
            self.get_object()
        return super().http_method_not_allowed(request, *args, **kwargs)

    def permission_denied(self, request, message=None, code=None):
        # Anonymous callers get 401 from authentication; everything else that is visible but not
        # allowed is 403. Invisible objects never reach here: get_object raised 404 already.
        if request.authenticators and not request.successful_authenticator:
            super().permission_denied(request, message, code)
        raise PermissionDenied(detail=message, code=code)


class LookupBeforeRefusal:
    """Writes a resource does not offer still look the object up first, so that what the caller
    may not see answers 404 to every verb, and only what they may see answers 403."""

    refusal = "This resource cannot be changed this way."

    @extend_schema(exclude=True)
    def update(self, request, *args, **kwargs):
        self.get_object()
        raise PermissionDenied(self.refusal)

    @extend_schema(exclude=True)
    def partial_update(self, request, *args, **kwargs):
        self.get_object()
        raise PermissionDenied(self.refusal)

    @extend_schema(exclude=True)
    def destroy(self, request, *args, **kwargs):
        self.get_object()
        raise PermissionDenied("This resource cannot be deleted; use its status actions.")


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet, LookupBeforeRefusal):
    pass


class ScopedViewSet(
    ScopedViewSetMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
    LookupBeforeRefusal,
):
    """List, retrieve, create and update; writes call services through perform_create/perform_update."""


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A writable relation whose choices are the caller's scoped rows: another tenant's id is a 400
    that reads the same as a missing one."""

    def __init__(self, model=None, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.model.objects.for_user(getattr(request, "user", None))


def scoped_choices(model):
    """A django-filter `queryset=` callable: the caller's rows only."""

    def queryset(request):
        if request is None:
            return model.objects.none()
        return model.objects.for_user(request.user)

    return queryset
