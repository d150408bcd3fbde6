"""The worker's Temporal SDK metrics: a runtime with a Prometheus endpoint on
RECUPERO_WORKER_METRICS_ADDRESS (worker.worker_runtime), none when it is empty."""

from __future__ import annotations

import dataclasses
import socket

import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from config import connect_temporal
from tests.api.helpers import Api, eventually
from worker import build_worker, worker_runtime


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_the_worker_serves_temporal_metrics_on_its_address(
    api: Api, temporal_env: WorkflowEnvironment
) -> None:
    assert worker_runtime(api.settings) is None  # empty address: no runtime, no port
    address = f"127.0.0.1:{free_port()}"
    settings = dataclasses.replace(
        api.settings, worker_metrics_address=address, task_queue=api.settings.task_queue + "-m"
    )
    runtime = worker_runtime(settings)
    assert runtime is not None and worker_runtime(settings) is runtime  # one per address
    target = temporal_env.client.service_client.config.target_host
    client: Client = await connect_temporal(
        dataclasses.replace(settings, temporal_address=target), runtime=runtime
    )
    async with build_worker(client, api.db, settings), httpx.AsyncClient() as http:

        async def polled() -> str | None:
            text = (await http.get(f"http://{address}/metrics")).text
            return text if "temporal_num_pollers" in text else None

        text = await eventually(polled, "the worker's pollers in its metrics")
    assert f'task_queue="{settings.task_queue}"' in text
