"""Observability: the Prometheus metrics (metrics.py), OpenTelemetry tracing (tracing.py) and
the JSON logs (logs.py). None of them carries personal data: route templates, ids, counts."""
