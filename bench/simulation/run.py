"""One strategy of `recupero simulate` on a large portfolio, measured: wall time, practices per
second, the peak memory and CPU of this process and of its children (the test servers; with
--jobs above 1 the chunks' workers too), counted once they have exited. From the repository
root:

    python bench/simulation/run.py --size 10000 --seed 1 --model bench/simulation/model.json \
        --chunk 1000 --jobs 2

Prints the figures and the KPIs as one JSON object on stdout; progress on stderr (by simulated
day with --jobs 1, by chunk otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from domain.simulation import Model, load_model  # noqa: E402
from simulator import load_strategy, simulate, test_server_binary  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--strategy", default="default")
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--model")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--chunk", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    model = load_model(Path(args.model).read_text()) if args.model else Model()
    began = time.monotonic()

    def progress(day: int, days: int) -> None:
        elapsed = time.monotonic() - began
        print(f"step {day}/{days} at {elapsed:.0f} s", file=sys.stderr, flush=True)

    run = asyncio.run(
        simulate(
            load_strategy(args.strategy),
            model,
            args.size,
            args.seed,
            test_server_binary(),
            progress=progress,
            workflow_tasks=args.concurrency,
            chunk=args.chunk,
            jobs=args.jobs,
        )
    )
    wall = time.monotonic() - began
    own = resource.getrusage(resource.RUSAGE_SELF)
    server = resource.getrusage(resource.RUSAGE_CHILDREN)
    k = run.kpis
    print(
        json.dumps(
            {
                "size": args.size,
                "seed": args.seed,
                "strategy": args.strategy,
                "wall_seconds": round(wall, 1),
                "practices_per_second": round(args.size / wall, 2),
                "chunk": args.chunk,
                "jobs": args.jobs,
                # with --jobs 1 the workers run in this process and the test servers are its
                # children; with more, every chunk's worker is a child too (ru_maxrss: the
                # largest of them)
                "this_process_max_rss_mb": round(own.ru_maxrss / 1024),
                "this_process_cpu_seconds": round(own.ru_utime + own.ru_stime),
                "children_max_rss_mb": round(server.ru_maxrss / 1024),
                "children_cpu_seconds": round(server.ru_utime + server.ru_stime),
                "refused": run.refused,
                "clock_drift_seconds": round(run.drift.total_seconds()),
                "time_skipping_locks_given_back": run.stalls,
                "liquidation": {str(d): str(v) for d, v in k.liquidation.items()},
                "cure_rate": str(k.cure_rate),
                "median_days_to_first_payment": str(k.median_days_to_first_payment),
                "recovered_cents": k.recovered_cents,
                "claimed_cents": k.claimed_cents,
                "contacts": k.contacts,
                "cost_cents": k.cost_cents,
                "cost_minutes": k.cost_minutes,
                "cost_per_euro_recovered": str(k.cost_per_euro_recovered),
                "outcomes": k.outcomes,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
