"""`recupero backup DIR` and `recupero restore DIR` for the embedded default: the read model
(SQLite, RECUPERO_DATABASE_URL or <data>/recupero.db) and the Temporal dev server's
<data>/temporal.db, copied with SQLite's online backup API while the stack runs.

Why Temporal's database first, then the read model: each copy is a consistent snapshot of its
file, but the two are taken a moment apart. Copied in this order, the read model is never older
than the workflows' histories. A workflow restored to its earlier history runs again the
activities it had not finished at that moment, and every activity writes by an idempotency key
(deliveries, tasks, documents, the snapshot's version), so it finds the rows it wrote after the
copy and neither sends nor records anything twice. The other order would restore histories that
say "letter sent, recorded" over a read model that never saw it. A practice handed over between
the two copies has its row but no workflow: the stranded sweep (schedules.py) starts it.

What falls between the two copies (a few seconds) and was an outside event the workflows had
not yet taken (a payment, a command) may be in the read model and not in its workflow: the
copies are taken one right after the other to keep that window short, and the backup's manifest
says when each was taken.

Restore refuses while the stack runs (the Temporal or API port answers, or a database is
locked): it replaces both files, with their write-ahead logs, and the data folder's secrets.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from config import Settings

MANIFEST = "backup.json"
TEMPORAL_FILE = "temporal.db"
READ_MODEL_FILE = "recupero.db"
# the data folder's secrets: the admin key kept at first start, and the secret the debtors'
# links in letters already sent are derived from (api/services/debtor_links.py)
SECRET_FILES = ("admin.key", "debtor-link-secret")


class BackupError(Exception):
    """A backup or restore that cannot be made; the message says why and what to do."""


@dataclass(frozen=True)
class Paths:
    temporal: Path
    read_model: Path
    data_dir: Path


def paths(settings: Settings) -> Paths:
    url = make_url(settings.database_url)
    if not url.get_backend_name() == "sqlite" or not url.database:
        raise BackupError(
            "backup and restore are for the embedded default (SQLite): with PostgreSQL use "
            "pg_dump and your Temporal cluster's own backup"
        )
    return Paths(
        temporal=settings.data_dir / TEMPORAL_FILE,
        read_model=Path(url.database).resolve(),
        data_dir=settings.data_dir,
    )


def _copy(source: Path, target: Path) -> None:
    """An online, consistent copy of `source` into a new file at `target` (written beside it,
    then renamed: a cut copy never looks whole). pages=-1: one step, one read snapshot; in WAL
    mode the running servers keep writing meanwhile."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst, pages=-1)
            # the copy stands alone: no -wal beside it
            dst.execute("PRAGMA journal_mode=DELETE")
            status = dst.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            dst.close()
    finally:
        src.close()
    if status != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy of {source.name} does not check ({status})")
    os.replace(partial, target)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def backup(settings: Settings, target: Path) -> dict[str, object]:
    """Copies both databases (Temporal's first) and the secrets into `target`, which must be
    new or empty; returns the manifest written there."""
    where = paths(settings)
    for needed in (where.temporal, where.read_model):
        if not needed.exists():
            raise BackupError(f"{needed} does not exist: is this the data folder of a stack?")
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: back up into a new folder")
    target.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, object] = {"started_at": _now()}
    _copy(where.temporal, target / TEMPORAL_FILE)
    manifest["temporal_copied_at"] = _now()
    _copy(where.read_model, target / READ_MODEL_FILE)
    manifest["read_model_copied_at"] = _now()
    secrets = []
    for name in SECRET_FILES:
        if (where.data_dir / name).exists():
            (target / name).write_bytes((where.data_dir / name).read_bytes())
            secrets.append(name)
    manifest["secrets"] = secrets
    manifest["schema"] = _schema_revision(target / READ_MODEL_FILE)
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _schema_revision(database: Path) -> str | None:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    finally:
        connection.close()
    return str(row[0]) if row else None


def _port_open(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _unlocked(database: Path) -> bool:
    """False when another process holds a lock on the database (a worker or API still open
    against it, writing); nothing is changed."""
    if not database.exists():
        return True
    connection = sqlite3.connect(database, timeout=0.5)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        connection.rollback()
    except sqlite3.OperationalError:
        return False
    finally:
        connection.close()
    return True


def restore(settings: Settings, source: Path) -> dict[str, object]:
    """Replaces the read model and Temporal's database with the backup in `source` (and the
    secrets it holds). Refuses while the stack runs. Returns the backup's manifest."""
    where = paths(settings)
    manifest_file = source / MANIFEST
    if not manifest_file.exists():
        raise BackupError(f"{source} holds no backup ({MANIFEST} is missing)")
    for name in (TEMPORAL_FILE, READ_MODEL_FILE):
        if not (source / name).exists():
            raise BackupError(f"{source / name} is missing: the backup is incomplete")
    running = [
        f"port {port} answers"
        for port in (settings.temporal_port, settings.api_port)
        if _port_open(port)
    ] + [f"{db} is in use" for db in (where.temporal, where.read_model) if not _unlocked(db)]
    if running:
        raise BackupError(
            "the stack is running (" + "; ".join(running) + "): stop `recupero run` (or the "
            "Temporal server, the workers and the API) before restoring"
        )
    where.data_dir.mkdir(parents=True, exist_ok=True)
    where.read_model.parent.mkdir(parents=True, exist_ok=True)
    for name, target in ((TEMPORAL_FILE, where.temporal), (READ_MODEL_FILE, where.read_model)):
        # a write-ahead log left by the running copy would be replayed over the restored file
        for suffix in ("-wal", "-shm", "-journal"):
            target.with_name(target.name + suffix).unlink(missing_ok=True)
        _copy(source / name, target)
    manifest: dict[str, object] = json.loads(manifest_file.read_text())
    secrets = manifest.get("secrets", [])
    for name in secrets if isinstance(secrets, list) else []:
        if name in SECRET_FILES and (source / name).exists():
            (where.data_dir / name).write_bytes((source / name).read_bytes())
    return manifest
