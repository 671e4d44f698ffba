"""Prepared statements: prepared once per connection, whatever its transactions do."""

import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.core.prepared import PreparedStatement

pytestmark = pytest.mark.django_db

_COUNT_SQL = """
SELECT cardinality(%(ids)s), %(label)s || '%%', (SELECT count(*) FROM unnest(%(ids)s) i WHERE i = %(wanted)s)
"""


def _statement():
    return PreparedStatement(
        f"test_count_{uuid.uuid4().hex}", _COUNT_SQL, {"ids": "uuid[]", "label": "varchar", "wanted": "uuid"}
    )


def _run(statement, **params):
    with connection.cursor() as cursor:
        cursor.execute(*statement.query(params))
        return cursor.fetchone()


def _prepares(queries):
    return [q["sql"] for q in queries if q["sql"].startswith("PREPARE")]


def test_a_statement_is_prepared_on_its_first_run_and_only_executed_after():
    statement = _statement()
    wanted = uuid.uuid4()
    with CaptureQueriesContext(connection) as queries:
        first = _run(statement, ids=[wanted, uuid.uuid4()], label="a", wanted=wanted)
        second = _run(statement, ids=[], label="b", wanted=wanted)
    assert (first, second) == ((2, "a%", 1), (0, "b%", 0))
    assert len(_prepares(queries)) == 1
    assert [q["sql"].split(" ")[0] for q in queries] == ["PREPARE", "EXECUTE", "EXECUTE"]


def test_a_rolled_back_transaction_keeps_the_statement_prepared():
    statement = _statement()
    wanted = uuid.uuid4()

    def prepare_then_fail():
        with transaction.atomic():
            _run(statement, ids=[wanted], label="x", wanted=wanted)
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        prepare_then_fail()
    with CaptureQueriesContext(connection) as queries:
        assert _run(statement, ids=[wanted], label="y", wanted=wanted) == (1, "y%", 1)
    assert _prepares(queries) == []


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_the_statement_again():
    statement = _statement()
    wanted = uuid.uuid4()
    _run(statement, ids=[wanted], label="x", wanted=wanted)
    connection.close()
    with CaptureQueriesContext(connection) as queries:
        assert _run(statement, ids=[wanted], label="z", wanted=wanted) == (1, "z%", 1)
    assert len(_prepares(queries)) == 1


def test_values_are_sent_as_parameters_never_as_sql():
    statement = _statement()
    hostile = "'); DROP TABLE identity_user; --"
    assert _run(statement, ids=[], label=hostile, wanted=uuid.uuid4()) == (0, hostile + "%", 0)


def test_types_must_name_exactly_the_parameters():
    with pytest.raises(ValueError, match="exactly the parameters"):
        PreparedStatement("test_missing", _COUNT_SQL, {"ids": "uuid[]", "label": "varchar"})


def test_two_statements_may_not_share_a_name():
    statement = _statement()
    with pytest.raises(ValueError, match="already"):
        PreparedStatement(statement.name, "SELECT 1", {})
