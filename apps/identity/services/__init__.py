"""Identity operations: each takes the acting Actor, checks the policy, audits, runs in a transaction."""
