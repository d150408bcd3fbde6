"""The trivial workflow the bench compares the product with: it starts, waits, answers an
update at once and counts signals (no activity, no database). Registered only on the bench's
own worker."""

from __future__ import annotations

from temporalio import workflow


@workflow.defn(name="BenchEmpty")
class EmptyWorkflow:
    def __init__(self) -> None:
        self.done = False
        self.pings = 0

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.done)
        return self.pings

    @workflow.update(name="ping")
    async def ping(self, n: int) -> int:
        self.pings += 1
        return n

    @workflow.signal(name="poke")
    def poke(self, n: int) -> None:
        self.pings += 1

    @workflow.signal(name="finish")
    def finish(self) -> None:
        self.done = True
