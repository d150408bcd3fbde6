"""How the three workflows (practice, plan, judicial) run their activities: one definition.

Activities that only touch the database are quick; rendering a PDF and handing it to a provider
takes longer. Both retry until they succeed: the idempotency keys make that safe.
"""

from datetime import timedelta

from temporalio.common import RetryPolicy

DB_TIMEOUT = timedelta(seconds=30)
SEND_TIMEOUT = timedelta(minutes=2)
RETRY = RetryPolicy(maximum_interval=timedelta(minutes=2))
