"""Schemathesis hooks, loaded into `st run` through SCHEMATHESIS_HOOKS (no Django here).

- Three of every four cases of an operation that CLOUDMGR_FUZZ_BINDINGS names
  (config.operation_bindings) get, for each bound path parameter or body
  field, one of the world's values for it (None: the field is left out): the
  operation then reaches objects it may act on, and the fourth case stays as
  drawn. A body field "list[*]" gets a list of the value, "list[*].key" a list
  of one object holding it.
- Every call is written as one JSON line to the file CLOUDMGR_FUZZ_CALLS names:
  the phase, the operation and the status, from which the test judges the run
  (each operation called, each answered 2xx at least once, the stateful phase
  ran steps) and counts the generated cases.
"""

import itertools
import json
import os
import re

import schemathesis

_calls = open(os.environ["CLOUDMGR_FUZZ_CALLS"], "a", buffering=1)  # noqa: SIM115 - open for the whole run
with open(os.environ["CLOUDMGR_FUZZ_BINDINGS"]) as _file:
    _BINDINGS = [(re.compile(pattern), values) for pattern, values in json.load(_file)]
_drawn = itertools.count()


def _bindings_for(label):
    return next((values for pattern, values in _BINDINGS if pattern.search(label)), None)


@schemathesis.hook
def map_case(context, case):
    bindings = _bindings_for(case.operation.label)
    turn = next(_drawn)
    if not bindings or turn % 4 == 0:
        return case
    for parameter, values in bindings.items():
        location, name = parameter.split(".", 1)
        value = values[turn % len(values)]
        if location == "path" and case.path_parameters is not None:
            case.path_parameters[name] = value
        elif location == "body" and isinstance(case.body, dict) and value is None:
            case.body.pop(name, None)
        elif location == "body" and isinstance(case.body, dict) and "[*]." in name:
            # "networks[*].network_id": a list of one object holding the value.
            field, key = name.split("[*].", 1)
            case.body[field] = [{key: value}]
        elif location == "body" and isinstance(case.body, dict):
            case.body[name.removesuffix("[*]")] = [value] if name.endswith("[*]") else value
    return case


@schemathesis.hook
def after_call(context, case, response):
    _calls.write(
        json.dumps(
            {
                "phase": case.meta.phase.name.value if case.meta is not None else "unknown",
                "operation": case.operation.label,
                "status": response.status_code,
            }
        )
        + "\n"
    )
