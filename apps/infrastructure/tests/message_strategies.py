"""Hypothesis strategies for agent messages: valid ones with hostile values put in, and worse.

`bodies(Schema, valid, known)` draws, in turn:
- a valid message of the test's (`valid`: dicts), with up to three fields, at
  any depth, replaced by a value of the field's type widened: integers of any
  size, any text, the protocol's named values and the ids the test knows (its
  host's name, its jobs and instances). With none replaced it is accepted, so
  the handlers behind validation see both good and bad values;
- a dict with the schema's keys, every value drawn that way (`message_dicts`),
  some keys dropped or added;
- any JSON at all.
"""

import copy
import dataclasses
import types
import typing

from hypothesis import strategies as st

from agent import protocol

NAMED_VALUES = sorted(
    {
        *protocol.POWER_STATES,
        *protocol.SHUTOFF_REASONS,
        *protocol.REPORT_STATES,
        *protocol.TASK_NAMES,
        *protocol.IMAGE_FORMATS,
        *protocol.ARCHITECTURES,
        "QEMU",
        "7.2.0",
    }
)
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
INTEGERS = st.integers(0, 100) | st.integers(-(2**70), 2**70) | st.sampled_from([2**31, 2**63, -1, 2**40 + 1])


def _text(known):
    return st.text(max_size=80) | st.sampled_from(NAMED_VALUES) | st.sampled_from(known)


def _value(tp, known):
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*[_value(option, known) for option in typing.get_args(tp)])
    if origin is list:
        return st.lists(_value(typing.get_args(tp)[0], known), max_size=3)
    if tp is type(None):
        return st.none()
    if isinstance(tp, type) and issubclass(tp, protocol.Message):
        return message_dicts(tp, known)
    if tp is dict:
        results = st.sampled_from(sorted(set(protocol.TASK_RESULTS.values()), key=lambda c: c.__name__))
        return st.dictionaries(st.text(max_size=12), JSON, max_size=4) | results.flatmap(
            lambda schema: message_dicts(schema, known)
        )
    if tp is int:
        return INTEGERS
    if tp is bool:
        return st.booleans()
    return _text(known)


def message_dicts(schema, known):
    """Dicts with every field of `schema`, each drawn from its widened type."""
    hints = typing.get_type_hints(schema)
    return st.fixed_dictionaries(
        {field.name: _value(hints[field.name], known) for field in dataclasses.fields(schema)}
    )


@st.composite
def mutated(draw, valid, schema, known):
    body = copy.deepcopy(draw(st.sampled_from(valid)))
    for _ in range(draw(st.integers(0, 3))):
        _replace_one_field(draw, body, schema, known)
    return body


def _nested_schema(tp):
    options = typing.get_args(tp) or (tp,)
    nested = [o for o in options if isinstance(o, type) and issubclass(o, protocol.Message)]
    return nested[0] if nested else None


def _replace_one_field(draw, body, schema, known):
    hints = typing.get_type_hints(schema)
    name = draw(st.sampled_from(sorted(hints)))
    nested = _nested_schema(hints[name])
    if nested is not None and isinstance(body.get(name), dict) and draw(st.booleans()):
        _replace_one_field(draw, body[name], nested, known)
    else:
        body[name] = draw(_value(hints[name], known))


def bodies(schema, valid, known):
    """What a hostile host may post where `schema` is expected."""
    extra_key = st.tuples(st.text(max_size=12), JSON)
    shaped = message_dicts(schema, known)
    mangled = st.tuples(shaped, st.lists(extra_key, max_size=2), st.integers(0, 20)).map(_mangle)
    return st.one_of(mutated(valid, schema, known), shaped, mangled, JSON)


def _mangle(drawn):
    message, extra, dropped = drawn
    message = {key: value for index, (key, value) in enumerate(message.items()) if index != dropped}
    return {**message, **dict(extra)}
