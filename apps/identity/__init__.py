"""Identity: domains, projects, users, roles and rules, tokens, login throttling."""
