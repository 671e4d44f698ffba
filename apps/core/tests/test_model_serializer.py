"""The API's ModelSerializer works out its fields once per class, and each serializer still gets its own."""

from unittest import mock

from rest_framework.utils import model_meta

from apps.core.api.serializers import ModelSerializer
from apps.networks.api.serializers import PortSerializer
from apps.networks.models import Port


class _Ports(ModelSerializer):
    class Meta:
        model = Port
        fields = ["id", "name", "mac_address"]


class _FewerPorts(_Ports):
    class Meta(_Ports.Meta):
        fields = ["id"]


def test_the_fields_are_worked_out_from_the_model_once_per_class():
    with mock.patch.object(model_meta, "get_field_info", wraps=model_meta.get_field_info) as field_info:
        for _ in range(3):
            assert list(_Ports().fields) == ["id", "name", "mac_address"]
    assert field_info.call_count <= 1


def test_each_serializer_gets_fields_of_its_own_bound_to_it():
    first, second = _Ports(), _Ports(partial=True)
    for name in ("id", "name", "mac_address"):
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first
        assert second.fields[name].parent is second
    first.fields["name"].max_length = 1
    assert _Ports().fields["name"].max_length == Port._meta.get_field("name").max_length


def test_a_subclass_with_other_meta_does_not_read_the_fields_of_its_parent():
    assert list(_Ports().fields) == ["id", "name", "mac_address"]
    assert list(_FewerPorts().fields) == ["id"]
    assert list(_Ports().fields) == ["id", "name", "mac_address"]


def test_the_api_serializers_derive_from_it():
    assert issubclass(PortSerializer, ModelSerializer)
