"""`management_ip__inet_within="10.0.0.0/24"`: PostgreSQL's `<<=` on inet, so CIDR checks run in SQL.

Registered on GenericIPAddressField in InfrastructureConfig.ready().
"""

from django.db.models import Lookup


class InetWithin(Lookup):
    lookup_name = "inet_within"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} <<= {rhs}::inet", [*lhs_params, *rhs_params]
