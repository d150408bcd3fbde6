"""Ways out of the agency: e-mail, SMS and PEC, each either a real provider or the outbox.

Without credentials a channel writes the message to the outbox (status "outbox") for a person to
read and send; it never pretends to have sent. With credentials it reserves the delivery, calls
the provider, and records the provider's message id (see activities.deliveries for why in that
order). Addresses and message texts are personal data: they go to the database only, never to the
logs or into error messages (which Temporal keeps in its history).

Each provider's sending rate is a token bucket shared by every worker (activities/rate_limit.py):
a send takes a token before it claims the delivery. Without one it waits a moment in the activity,
or, when the wait is longer, ends the attempt with a retryable error whose next_retry_delay is
when the token will be there: the worker's slot is free meanwhile, and nothing is written. A
provider that is down (5xx, refused connection) or says 429 parks the delivery (the outbox shows
why and the next try) and the attempt fails with next_retry_delay set: Retry-After for a 429, a
back-off doubling up to two minutes otherwise. The activity retries without limit
(workflows/activity_options.py), so an outage delays the practice's step and never fails it.

What the providers report afterwards (delivered, bounced, PEC receipts) arrives through the API's
webhooks (api/routers/webhooks.py), matched by the delivery id sent along with the message.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import random
import smtplib
import socket
import ssl
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parsedate_to_datetime
from typing import Any, NoReturn, Protocol
from urllib.error import URLError

import aiohttp
from python_http_client.exceptions import HTTPError as SendGridHTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import (
    Attachment as SendGridAttachment,
)
from sendgrid.helpers.mail import (
    CustomArg,
    Disposition,
    FileContent,
    FileName,
    FileType,
    From,
    Mail,
    ReplyTo,
)
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client as TwilioClient

from activities.deliveries import (
    PROVIDER_UNAVAILABLE,
    RATE_LIMITED,
    DeliveryOutcome,
    Message,
    mark_failed,
    mark_parked,
    mark_sent,
    reserve,
    settled,
    write_outbox,
)
from activities.rate_limit import ProviderLimiter, Rate
from config import Settings
from db.session import Database

log = logging.getLogger(__name__)

PROVIDER_TIMEOUT_SECONDS = 30.0

# where the API takes Twilio's status callbacks, under RECUPERO_PUBLIC_URL
TWILIO_CALLBACK_PATH = "/webhooks/twilio"


class EmailChannel(Protocol):
    async def send(self, message: Message) -> DeliveryOutcome: ...


class SmsChannel(Protocol):
    async def send(self, message: Message) -> DeliveryOutcome: ...


# a send without a token waits this long at most inside the activity; a longer wait ends the
# attempt and the retry comes back when the token is there (the worker's slot is free meanwhile)
WAIT_IN_ACTIVITY_SECONDS = 2.0
# an outage's retries: 1 s, 2 s, 4 s ... up to the retry policy's own maximum interval
OUTAGE_FIRST_RETRY_SECONDS = 1.0
OUTAGE_MAX_RETRY_SECONDS = 120.0
# a Retry-After beyond this is taken as this: a provider's header does not stop sending for days
RETRY_AFTER_MAX_SECONDS = 3600.0


class ProviderUnavailable(ApplicationError):
    """The provider did not take the message and said so (5xx, 429, 401, refused connection):
    the delivery is parked and the activity's retry sends it again after `retry_in`."""

    def __init__(self, provider: str, detail: str, retry_in: timedelta | None = None) -> None:
        super().__init__(
            f"{provider}: {detail}", type="ProviderUnavailable", next_retry_delay=retry_in
        )


class ProviderBusy(ApplicationError):
    """No token in the provider's shared bucket yet: the attempt ends without touching the
    delivery and the retry comes when the token will be there. Benign: a sign of load that
    the SDK does not log as an error."""

    def __init__(self, provider: str, retry_in: timedelta) -> None:
        super().__init__(
            f"{provider}: rate limit, next token in {retry_in.total_seconds():.1f}s",
            type="ProviderBusy",
            next_retry_delay=retry_in,
            category=ApplicationErrorCategory.BENIGN,
        )


def provider_rates(settings: Settings) -> dict[str, Rate]:
    return {
        "sendgrid": Rate(settings.sendgrid_rate, settings.sendgrid_burst),
        "twilio": Rate(settings.twilio_rate, settings.twilio_burst),
        "pec": Rate(settings.pec_rate, settings.pec_burst),
    }


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date (RFC 9110); None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_MAX_SECONDS)


def outage_delay(attempt: int) -> float:
    """1 s, 2 s, 4 s ... up to two minutes: the attempt's number decides, so the delay the
    outbox shows is the one the retry keeps."""
    return min(OUTAGE_MAX_RETRY_SECONDS, OUTAGE_FIRST_RETRY_SECONDS * 2.0 ** min(attempt - 1, 16))


def _attempt() -> int:
    return activity.info().attempt if activity.in_activity() else 1


class _Provider:
    """What every provider channel shares: the bucket, the claim, the parking."""

    provider: str

    def __init__(
        self,
        db: Database,
        settings: Settings,
        timeout: float = PROVIDER_TIMEOUT_SECONDS,
        limiter: ProviderLimiter | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.timeout = timeout
        self.limiter = limiter or ProviderLimiter(db, provider_rates(settings))

    async def _claim(self, message: Message) -> tuple[DeliveryOutcome, bool]:
        """reserve(), after a token of the provider's bucket: a message already sent (or on
        its way) takes no token, one that has to wait for a token claims nothing yet."""
        done = await settled(self.db, message.idempotency_key)
        if done is not None:
            return done, False
        waited = 0.0
        while (wait := await self.limiter.try_take(self.provider)) > 0:
            if waited + wait > WAIT_IN_ACTIVITY_SECONDS:
                # a little jitter: the attempts that found the bucket empty together do not
                # all come back in the same instant
                jitter = random.uniform(0.0, min(wait, 1.0))  # noqa: S311 - not a secret
                raise ProviderBusy(self.provider, timedelta(seconds=wait + jitter))
            await asyncio.sleep(wait)
            waited += wait
        return await reserve(self.db, message, self.provider)

    async def _park(
        self, reserved: DeliveryOutcome, detail: str, retry_after: float | None = None
    ) -> NoReturn:
        """The provider did not take the message: the delivery waits, parked, for the retry.
        With a Retry-After (429) the shared bucket is held as long, for every worker."""
        if retry_after is not None:
            reason, delay = RATE_LIMITED, retry_after
            await self.limiter.hold(self.provider, retry_after)
        else:
            reason, delay = PROVIDER_UNAVAILABLE, outage_delay(_attempt())
        retry_in = timedelta(seconds=delay)
        await mark_parked(self.db, reserved, reason, datetime.now(UTC) + retry_in)
        log.warning(
            "%s did not take delivery %s (%s): next try in %.0fs",
            self.provider,
            reserved.delivery_id,
            detail,
            delay,
        )
        raise ProviderUnavailable(self.provider, detail, retry_in)


# The provider refused the message itself (bad address or number, malformed content): the same
# request would be refused again, so it is reported rather than retried. Other errors, 401/403
# and 404 included (a wrong key or account is for a person to fix), fail the attempt so Temporal
# retries it and the failing activity shows.
_REFUSES_THE_MESSAGE = frozenset({400, 413, 422})


def _permanent(status: int | None) -> bool:
    return status in _REFUSES_THE_MESSAGE


class _Outbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def send(self, message: Message) -> DeliveryOutcome:
        return await write_outbox(self.db, message)


class OutboxEmail(_Outbox):
    """E-mail and PEC written to the outbox (no provider or PEC mailbox configured)."""


class OutboxSms(_Outbox):
    """SMS written to the outbox (no provider configured)."""


class SendGridEmail(_Provider):
    provider = "sendgrid"

    def _mail(self, message: Message, delivery_id: str) -> Mail:
        mail = Mail(
            from_email=From(self.settings.sendgrid_from, self.settings.agency_name),
            to_emails=message.recipient,
            subject=message.subject,
            plain_text_content=message.body,
        )
        if self.settings.agency_email:
            mail.reply_to = ReplyTo(self.settings.agency_email, self.settings.agency_name)
        # SendGrid returns custom args with every event of the Event Webhook: the webhook finds
        # the delivery by its id, and a person reconciling the provider's log by either
        mail.custom_arg = [
            CustomArg("idempotency_key", message.idempotency_key),
            CustomArg("delivery_id", delivery_id),
        ]
        for item in message.attachments:
            mail.add_attachment(
                SendGridAttachment(
                    FileContent(base64.b64encode(item.content).decode("ascii")),
                    FileName(item.filename),
                    FileType(item.media_type),
                    Disposition("attachment"),
                )
            )
        return mail

    def _post(self, mail: Mail) -> str | None:
        client = SendGridAPIClient(
            api_key=self.settings.sendgrid_api_key, host=self.settings.sendgrid_host
        )
        response = client.client.mail.send.post(request_body=mail.get(), timeout=self.timeout)
        headers = response.headers
        return headers.get("X-Message-Id") if headers is not None else None

    async def send(self, message: Message) -> DeliveryOutcome:
        reserved, must_send = await self._claim(message)
        if not must_send:
            return reserved
        mail = self._mail(message, reserved.delivery_id)
        try:
            message_id = await asyncio.to_thread(self._post, mail)
        except SendGridHTTPError as exc:
            status = getattr(exc, "status_code", None)
            if _permanent(status):
                log.warning("sendgrid refused delivery %s: HTTP %s", reserved.delivery_id, status)
                return await mark_failed(self.db, reserved)
            headers: Any = getattr(exc, "headers", None)
            await self._park(reserved, f"HTTP {status}", _retry_after(status, headers))
        except URLError as exc:
            if not isinstance(exc.reason, ConnectionRefusedError | socket.gaierror):
                # A timeout or a dropped connection may have reached SendGrid: the row stays
                # pending and the retry reports it as such rather than sending a second copy.
                raise
            await self._park(reserved, type(exc.reason).__name__)
        return await mark_sent(self.db, reserved, message_id)


def _retry_after(status: int | None, headers: Any) -> float | None:
    """A 429's Retry-After in seconds (a 429 without one: a second); None for other answers."""
    if status != 429:
        return None
    value = headers.get("Retry-After") if headers is not None else None
    seconds = retry_after_seconds(value, datetime.now(UTC))
    return seconds if seconds is not None else 1.0


class _TwilioHttp(AsyncTwilioHttpClient):  # type: ignore[misc]  # twilio has no types
    """Twilio's async client, keeping the last answer's headers: TwilioRestException carries
    the status, not the Retry-After of a 429."""

    last_headers: Any = None

    async def request(self, *args: Any, **kwargs: Any) -> TwilioResponse:
        response = await super().request(*args, **kwargs)
        self.last_headers = response.headers
        return response


class TwilioSms(_Provider):
    provider = "twilio"

    def _client(self, http_client: AsyncTwilioHttpClient) -> TwilioClient:
        client = TwilioClient(
            self.settings.twilio_account_sid,
            self.settings.twilio_auth_token,
            http_client=http_client,
        )
        if self.settings.twilio_base_url:
            # twilio 9 builds every Messages URL from the Api domain's base_url
            client.api.base_url = self.settings.twilio_base_url
        return client

    async def send(self, message: Message) -> DeliveryOutcome:
        reserved, must_send = await self._claim(message)
        if not must_send:
            return reserved
        http_client = _TwilioHttp()
        options: dict[str, str] = {}
        if self.settings.public_url:
            # Twilio reports delivered / failed there (api/routers/webhooks.py)
            options["status_callback"] = f"{self.settings.public_url}{TWILIO_CALLBACK_PATH}"
        try:
            # the async client does not apply its own timeout to requests; a timeout leaves the
            # row pending (the message may have gone), which is what TimeoutError propagating does
            async with asyncio.timeout(self.timeout):
                sent = await self._client(http_client).messages.create_async(
                    to=message.recipient,
                    from_=self.settings.twilio_from,
                    body=message.body,
                    **options,
                )
        except TwilioRestException as exc:
            if _permanent(exc.status):
                log.warning(
                    "twilio refused delivery %s: HTTP %s code %s",
                    reserved.delivery_id,
                    exc.status,
                    exc.code,
                )
                return await mark_failed(self.db, reserved)
            retry_after = _retry_after(exc.status, http_client.last_headers)
            await self._park(reserved, f"HTTP {exc.status} code {exc.code}", retry_after)
        except aiohttp.ClientConnectorError as exc:
            await self._park(reserved, type(exc).__name__)
        finally:
            await http_client.close()
        return await mark_sent(self.db, reserved, sent.sid)


def message_id_for(idempotency_key: str, sender: str) -> str:
    """The Message-ID of a PEC: the same for every attempt of one message, so the mail house
    (and the recipient's mailbox) can recognise a second copy. The key is hashed: a header
    carries only what RFC 5322 allows, and nothing about the practice."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:40]
    domain = sender.rpartition("@")[2] or "recupero.invalid"
    return f"<{digest}.recupero@{domain}>"


class _NotSent(Exception):
    """The SMTP session failed before the message was handed over (connection, TLS, login)."""


class _Refused(Exception):
    """The server answered MAIL, RCPT or DATA with a refusal: the message was not taken."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class PecEmail(_Provider):
    """PEC copies from the agency's own certified mailbox, by SMTP over TLS (implicit TLS on 465,
    or STARTTLS), as PEC providers require. Same discipline as the other providers: a pending row
    is committed before the SMTP session, so a worker that dies after the server took the message
    never sends it again; a server that refused it marks the row failed and the retry sends it
    with the same Message-ID."""

    provider = "pec"

    def __init__(
        self,
        db: Database,
        settings: Settings,
        timeout: float = PROVIDER_TIMEOUT_SECONDS,
        ssl_context: ssl.SSLContext | None = None,
        limiter: ProviderLimiter | None = None,
    ) -> None:
        super().__init__(db, settings, timeout, limiter)
        self.ssl_context = ssl_context or ssl.create_default_context()

    def _email(self, message: Message) -> EmailMessage:
        sender = self.settings.pec_from
        mail = EmailMessage()
        mail["From"] = formataddr((self.settings.agency_name, sender))
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = message_id_for(message.idempotency_key, sender)
        mail.set_content(message.body)
        for item in message.attachments:
            maintype, _, subtype = item.media_type.partition("/")
            mail.add_attachment(
                item.content,
                maintype=maintype or "application",
                subtype=subtype or "octet-stream",
                filename=item.filename,
            )
        return mail

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        try:
            smtp: smtplib.SMTP
            if s.pec_starttls:
                smtp = smtplib.SMTP(s.pec_host, s.pec_port, timeout=self.timeout)
                try:
                    smtp.starttls(context=self.ssl_context)
                    smtp.ehlo()
                except BaseException:
                    smtp.close()
                    raise
            else:
                smtp = smtplib.SMTP_SSL(
                    s.pec_host, s.pec_port, timeout=self.timeout, context=self.ssl_context
                )
            if s.pec_user:
                try:
                    smtp.login(s.pec_user, s.pec_password)
                except BaseException:
                    smtp.close()
                    raise
        except (OSError, smtplib.SMTPException) as exc:
            raise _NotSent(type(exc).__name__) from exc
        return smtp

    def _deliver(self, mail: EmailMessage) -> None:
        """Runs in a thread. Raises _NotSent or _Refused when the server provably did not take
        the message; anything else (a timeout or a dropped connection during DATA) may have
        reached it and propagates as it is."""
        smtp = self._open()
        try:
            try:
                refused = smtp.send_message(mail)
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                raise _Refused(max(codes, default=550)) from None
            except smtplib.SMTPDataError as exc:
                raise _Refused(exc.smtp_code) from None
            except smtplib.SMTPSenderRefused as exc:
                # the mailbox refuses our own sender: the settings are wrong, not the message
                raise _NotSent(f"sender refused, SMTP {exc.smtp_code}") from None
            if refused:  # one recipient only: refused means not sent (RecipientsRefused above)
                raise _Refused(max(code for code, _ in refused.values()))
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    async def send(self, message: Message) -> DeliveryOutcome:
        reserved, must_send = await self._claim(message)
        if not must_send:
            return reserved
        mail = self._email(message)
        try:
            await asyncio.to_thread(self._deliver, mail)
        except _NotSent as exc:
            await self._park(reserved, f"no session: {exc}")
        except _Refused as exc:
            if 500 <= exc.code < 600:
                log.warning("pec refused delivery %s: SMTP %s", reserved.delivery_id, exc.code)
                return await mark_failed(self.db, reserved)
            await self._park(reserved, f"SMTP {exc.code}")
        return await mark_sent(self.db, reserved, str(mail["Message-ID"]))


def email_channel_for(db: Database, settings: Settings) -> EmailChannel:
    if settings.sendgrid_api_key:
        return SendGridEmail(db, settings)
    return OutboxEmail(db)


def sms_channel_for(db: Database, settings: Settings) -> SmsChannel:
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from:
        return TwilioSms(db, settings)
    return OutboxSms(db)


def pec_channel_for(db: Database, settings: Settings) -> EmailChannel:
    """The agency's PEC mailbox when configured; the outbox otherwise. A PEC has legal value only
    when it leaves the agency's own certified mailbox, which no e-mail API provides."""
    if settings.pec_host and settings.pec_from:
        return PecEmail(db, settings)
    return OutboxEmail(db)
