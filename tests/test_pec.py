"""PEC copies by SMTP over TLS, against a local SMTP server (aiosmtpd) with a certificate made
here: exactly one message per key, with the PDF attached, whatever the retries."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from activities import OutboxEmail, PecEmail, PracticeActivities, pec_channel_for
from activities.channels import ProviderUnavailable, message_id_for
from activities.deliveries import Attachment, Message
from db.models import Delivery
from db.session import Database
from domain.activity_io import LetterInput
from tests.factories import create_creditor, create_practice, make_settings

PEC_FROM = "studio@pec.studio-servizi.example.it"
DEBTOR_PEC = "mario.rossi@pec.example.it"
USER, PASSWORD = "studio", "segreta"


# --- a certificate for 127.0.0.1 ---------------------------------------------------------------


@dataclass(frozen=True)
class Tls:
    cert_file: Path
    key_file: Path
    cert_pem: bytes

    def server(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client(self) -> ssl.SSLContext:
        # verifies the chain and the name like the default context, against this certificate
        return ssl.create_default_context(cadata=self.cert_pem.decode("ascii"))


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (folder / "cert.pem").write_bytes(cert_pem)
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Tls(folder / "cert.pem", folder / "key.pem", cert_pem)


# --- the mailbox -------------------------------------------------------------------------------


@dataclass
class Mailbox:
    """What the SMTP server took, and how it answers the next DATA or RCPT."""

    port: int
    starttls: bool = False
    accepted: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    data_attempts: int = 0
    sessions: int = 0
    logins: list[str] = field(default_factory=list)
    data_answers: list[str] = field(default_factory=list)  # consumed one per DATA
    rcpt_answer: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    # aiosmtpd handler hooks (they run on the controller's own thread and loop)

    async def handle_EHLO(  # noqa: N802 - aiosmtpd's hook names
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        with self.lock:
            self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.rcpt_answer is not None:
            return self.rcpt_answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.data_attempts += 1
            if self.data_answers:
                return self.data_answers.pop(0)
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            self.accepted.append(parsed)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == USER
            and auth_data.password.decode() == PASSWORD
        )
        if ok:
            self.logins.append(USER)
        # handled=False: aiosmtpd answers the refusal itself (535)
        return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(mailbox: Mailbox, tls: Tls, *, implicit: bool) -> Controller:
    options: dict[str, Any] = {
        "authenticator": mailbox.authenticate,
        "auth_require_tls": True,
    }
    if implicit:
        # aiosmtpd counts only STARTTLS as TLS for AUTH; here the whole connection is TLS
        options.update(ssl_context=tls.server(), auth_require_tls=False)
    else:
        options.update(tls_context=tls.server(), require_starttls=True)
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port, **options)
    controller.start()
    return controller


@pytest.fixture(params=["starttls", "implicit_tls"])
def mailbox(request: pytest.FixtureRequest, tls: Tls) -> Iterator[Mailbox]:
    box = Mailbox(port=free_port(), starttls=request.param == "starttls")
    controller = start(box, tls, implicit=not box.starttls)
    box.sessions = 0  # the controller's own start-up probe is not ours
    yield box
    controller.stop()


def pec_settings(mailbox: Mailbox, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "pec_host": "127.0.0.1",
        "pec_port": mailbox.port,
        "pec_user": USER,
        "pec_password": PASSWORD,
        "pec_from": PEC_FROM,
        "pec_starttls": mailbox.starttls,
    }
    values.update(overrides)
    return make_settings(**values)


def pec_channel(database: Database, mailbox: Mailbox, tls: Tls, **overrides: Any) -> PecEmail:
    return PecEmail(
        database, pec_settings(mailbox, **overrides), timeout=10, ssl_context=tls.client()
    )


async def row(database: Database, key: str) -> Delivery:
    async with database.session() as session:
        found = (
            await session.execute(select(Delivery).where(Delivery.idempotency_key == key))
        ).scalar_one()
    return found


def pdf_message(key: str, practice_id: str | None = None) -> Message:
    return Message(
        idempotency_key=key,
        channel="pec",
        recipient=DEBTOR_PEC,
        subject="Comunicazione – rif. PR-1",
        body="In allegato la comunicazione.",
        practice_id=practice_id,
        attachments=[Attachment("diffida-PR-1.pdf", b"%PDF-1.7\n%test\n")],
    )


# --- tests -------------------------------------------------------------------------------------


def test_pec_goes_by_smtp_only_when_the_mailbox_is_configured(database: Database) -> None:
    assert isinstance(pec_channel_for(database, make_settings()), OutboxEmail)
    assert isinstance(
        pec_channel_for(database, make_settings(pec_host="smtp.pec.example.it")), OutboxEmail
    )
    configured = make_settings(pec_host="smtp.pec.example.it", pec_from=PEC_FROM)
    assert isinstance(pec_channel_for(database, configured), PecEmail)
    assert isinstance(PracticeActivities(database, configured).pec, PecEmail)


def test_the_message_id_is_derived_from_the_key() -> None:
    first = message_id_for("p1:formal_demand:1:pec", PEC_FROM)
    assert first == message_id_for("p1:formal_demand:1:pec", PEC_FROM)
    assert first != message_id_for("p1:formal_demand:2:pec", PEC_FROM)
    assert first.startswith("<") and first.endswith("@pec.studio-servizi.example.it>")
    assert "p1" not in first


async def test_a_letter_goes_once_by_pec_with_the_pdf_attached(
    database: Database, mailbox: Mailbox, tls: Tls
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor, pec=DEBTOR_PEC)
    acts = PracticeActivities(
        database, pec_settings(mailbox), pec=pec_channel(database, mailbox, tls)
    )
    letter = LetterInput(
        practice.id,
        f"{practice.id}:legal_notice:1",
        "legal_notice",
        practice.balance_cents,
        email_copy=False,
        pec_copy=True,
    )
    result = await acts.send_letter(letter)
    assert result.deliveries == ["post:outbox", "pec:sent"]
    assert len(mailbox.accepted) == 1 and mailbox.logins == [USER]
    [message] = mailbox.accepted
    assert mailbox.envelopes == [(PEC_FROM, [DEBTOR_PEC])]
    assert message["To"] == DEBTOR_PEC
    assert PEC_FROM in message["From"]
    assert message["Message-ID"] == message_id_for(f"{letter.idempotency_key}:pec", PEC_FROM)
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"legal_notice-{practice.reference}.pdf"
    assert attachment.get_content().startswith(b"%PDF")

    delivered = await row(database, f"{letter.idempotency_key}:pec")
    assert (delivered.status, delivered.provider) == ("sent", "pec")
    assert delivered.provider_message_id == message["Message-ID"]

    # the activity retried (a worker restart, a lost answer): nothing goes out again
    sessions = mailbox.sessions
    again = await acts.send_letter(letter)
    assert again == result
    assert len(mailbox.accepted) == 1 and mailbox.sessions == sessions


async def test_a_refused_attempt_is_sent_once_by_the_retry_with_the_same_message_id(
    database: Database, mailbox: Mailbox, tls: Tls
) -> None:
    channel = pec_channel(database, mailbox, tls)
    mailbox.data_answers.append("451 4.3.0 Temporary failure, try again")
    message = pdf_message("pec:retry:1")
    with pytest.raises(ProviderUnavailable):
        await channel.send(message)
    assert (await row(database, "pec:retry:1")).status == "parked"
    assert mailbox.accepted == []

    outcome = await channel.send(message)  # Temporal's retry of the activity
    assert outcome.status == "sent"
    assert mailbox.data_attempts == 2 and len(mailbox.accepted) == 1
    [accepted] = mailbox.accepted
    assert accepted["Message-ID"] == message_id_for("pec:retry:1", PEC_FROM)
    [attachment] = list(accepted.iter_attachments())
    assert attachment.get_content() == b"%PDF-1.7\n%test\n"
    assert await channel.send(message) == outcome
    assert len(mailbox.accepted) == 1


async def test_a_recipient_the_server_refuses_for_good_is_reported_not_retried(
    database: Database, mailbox: Mailbox, tls: Tls
) -> None:
    mailbox.rcpt_answer = "550 5.1.1 Mailbox unavailable"
    outcome = await pec_channel(database, mailbox, tls).send(pdf_message("pec:refused:1"))
    assert (outcome.status, outcome.provider) == ("failed", "pec")
    assert mailbox.accepted == []


async def test_wrong_credentials_or_no_server_fail_the_attempt_and_send_nothing(
    database: Database, mailbox: Mailbox, tls: Tls
) -> None:
    wrong = pec_channel(database, mailbox, tls, pec_password="sbagliata")
    with pytest.raises(ProviderUnavailable):
        await wrong.send(pdf_message("pec:auth:1"))
    assert (await row(database, "pec:auth:1")).status == "parked"

    nobody = pec_channel(database, mailbox, tls, pec_port=free_port())
    with pytest.raises(ProviderUnavailable):
        await nobody.send(pdf_message("pec:down:1"))
    assert (await row(database, "pec:down:1")).status == "parked"

    # a certificate the client does not trust: no session, nothing handed over
    untrusting = PecEmail(database, pec_settings(mailbox), timeout=10)
    with pytest.raises(ProviderUnavailable):
        await untrusting.send(pdf_message("pec:tls:1"))
    assert mailbox.accepted == []

    # the right settings on the retry send each message once
    good = pec_channel(database, mailbox, tls)
    for key in ("pec:auth:1", "pec:down:1", "pec:tls:1"):
        assert (await good.send(pdf_message(key))).status == "sent"
    assert len(mailbox.accepted) == 3
