"""System tests: the product as real processes on loopback ports (a Temporal dev server on a
temporary --db-filename, worker processes, `recupero api`), crashed with SIGKILL and loaded with
concurrent requests, plus schemathesis on the API's OpenAPI schema. They run in `make test`
(about 7 minutes, mostly waiting for the activities of killed workers to time out); marked
`system`, so `pytest -m "not system"` leaves them out for a quick run."""
