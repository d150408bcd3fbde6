"""Pure domain code: no I/O, importable by workflows (deterministic) and by the API."""
