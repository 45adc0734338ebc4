"""One router per resource: decisions, rule sets, health and metrics, admin."""
