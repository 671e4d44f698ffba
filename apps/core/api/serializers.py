"""The ModelSerializer every serializer of a model in the API derives from.

DRF works out a ModelSerializer's fields (the model's field info, then a field
class and its arguments for each name in Meta) for every serializer it makes,
that is at least once per request: about 5% of the controller's CPU for a port
create (bench/ip_allocation.py). They depend on the class alone, so here they
are worked out once per class, and each serializer gets its own deep copy, as
DRF gives each one its own copy of the declared fields (fields are bound to
their serializer).
"""

import copy

from rest_framework import serializers


class ModelSerializer(serializers.ModelSerializer):
    def get_fields(self):
        cls = type(self)
        # Each class its own: a subclass has other Meta, so it must not read its parent's.
        built = cls.__dict__.get("_fields_of_class")
        if built is None:
            built = super().get_fields()
            cls._fields_of_class = built
        return copy.deepcopy(built)
