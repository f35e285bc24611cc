"""Serializer bases shared by every app's API."""

from operator import attrgetter

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from rest_framework import fields, relations, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject


class StrictFieldsMixin:
    """Unknown fields in the input are a 400, not silently dropped: a typo must not lose data."""

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            unknown = sorted(set(data.keys()) - set(self.fields.keys()))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class StrictSerializer(StrictFieldsMixin, serializers.Serializer):
    pass


# Fast representation -----------------------------------------------------------------------------

_SKIP = object()


def _plan_field(serializer, field):
    """(name, getter, converter) for one readable field: a plain column is read with getattr and a
    foreign key's id from its column; everything else takes DRF's own path, unchanged."""
    name = field.field_name
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    attrs = field.source_attrs
    generic_get = field.get_attribute

    def get_generic(instance):
        try:
            value = generic_get(instance)
        except SkipField:
            return _SKIP
        if isinstance(value, PKOnlyObject):
            return None if value.pk is None else value
        return value

    getter, convert = get_generic, field.to_representation
    if model is not None and len(attrs) == 1 and field.source != "*":
        try:
            model_field = model._meta.get_field(attrs[0])
        except FieldDoesNotExist:
            model_field = None
        concrete = model_field is not None and getattr(model_field, "concrete", False)
        if concrete and not model_field.is_relation and model_field.name == attrs[0]:
            getter = attrgetter(attrs[0])
        elif (
            concrete
            and model_field.many_to_one
            and type(field) is relations.PrimaryKeyRelatedField
            and field.pk_field is None
            and model_field.target_field.primary_key
        ):
            getter, convert = attrgetter(model_field.attname), _identity
    if type(field) is fields.CharField:
        convert = str
    elif type(field) is fields.IntegerField:
        convert = int
    return name, getter, convert


def _identity(value):
    return value


class FastRepresentationMixin:
    """`to_representation` with each field's getter and converter worked out once per serializer
    instance (a list's child serializes every row with the same plan), not looked up per row and
    field. The output is DRF's: non-trivial fields keep DRF's own `get_attribute`/`to_representation`.
    """

    def to_representation(self, instance):
        if not isinstance(instance, models.Model):
            return super().to_representation(instance)  # a mapping or another object: DRF's path
        plan = self.__dict__.get("_fast_plan")
        if plan is None:
            plan = self.__dict__["_fast_plan"] = [_plan_field(self, field) for field in self._readable_fields]
        ret = {}
        for name, get, convert in plan:
            value = get(instance)
            if value is _SKIP:
                continue
            ret[name] = None if value is None else convert(value)
        return ret


class ModelSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    """The project's ModelSerializer: DRF's, with the fast representation."""


class StrictModelSerializer(StrictFieldsMixin, ModelSerializer):
    pass
