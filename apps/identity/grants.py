"""A user's grants, read from identity's tables: role assignments joined with their roles' rules.

The policy (apps.core.policy) asks for them through `load_grants`, registered in
IdentityConfig.ready(); token and API-key authentication read them in their own
statement with `grants_subquery`.
"""

import uuid

from django.db import connection

from apps.core.policy import Grant


def _grants_select(user_id):
    """Grants of the user `user_id` (SQL: a parameter or a column): assignments joined with their
    role's rules, leaving out assignments on disabled projects and on anything under a disabled domain."""
    return f"""
SELECT r.action, d.path, ra.project_id
  FROM identity_roleassignment ra
  JOIN identity_rule r ON r.role_id = ra.role_id
  LEFT JOIN identity_domain d ON d.id = ra.domain_id
  LEFT JOIN identity_project p ON p.id = ra.project_id
  LEFT JOIN identity_domain pd ON pd.id = p.domain_id
 WHERE ra.user_id = {user_id}
   AND (p.id IS NULL OR p.enabled)
   AND NOT EXISTS (
       SELECT 1 FROM identity_domain x
        WHERE NOT x.enabled AND COALESCE(d.path, pd.path) LIKE x.path || '%%')
"""  # noqa: S608 (user_id is SQL written in code, never input)


def grants_subquery(user_id_column):
    """SQL for one column holding the grants of the user in `user_id_column` as a JSON array.

    Authentication reads them in its own statement (apps.identity.rowload), so a
    request's permission checks cost no statement of their own.
    """
    grants = _grants_select(user_id_column)
    return f"(SELECT COALESCE(json_agg(json_build_array(g.action, g.path, g.project_id)), '[]') FROM ({grants}) g)"  # noqa: S608, E501 (SQL written in code)


def grants_from_json(rows):
    return [Grant(action, path, uuid.UUID(project) if project else None) for action, path, project in rows]


def load_grants(user_id):
    with connection.cursor() as cursor:
        cursor.execute(_grants_select("%s"), [user_id])
        return [Grant(action, path, project_id) for action, path, project_id in cursor.fetchall()]
