"""Jobs: long operations with progress, a deadline and exactly-once settlement, and periodic work."""
