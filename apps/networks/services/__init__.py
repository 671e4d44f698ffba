"""The networks app's operations: each checks the policy, runs in one audited transaction, claims quota."""
