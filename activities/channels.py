"""Ways out of the agency: e-mail and SMS, each either a real provider or the outbox.

Without credentials a channel writes the message to the outbox (status "outbox") for a person to
read and send; it never pretends to have sent. With credentials it reserves the delivery, calls
the provider, and records the provider's message id (see activities.deliveries for why in that
order). Addresses and message texts are personal data: they go to the database only, never to the
logs or into error messages (which Temporal keeps in its history).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import socket
from typing import Protocol
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
from temporalio.exceptions import ApplicationError
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client as TwilioClient

from activities.deliveries import (
    DeliveryOutcome,
    Message,
    mark_failed,
    mark_sent,
    reserve,
    write_outbox,
)
from config import Settings
from db.session import Database

log = logging.getLogger(__name__)

PROVIDER_TIMEOUT_SECONDS = 30.0


class EmailChannel(Protocol):
    async def send(self, message: Message) -> DeliveryOutcome: ...


class SmsChannel(Protocol):
    async def send(self, message: Message) -> DeliveryOutcome: ...


class ProviderUnavailable(ApplicationError):
    """The provider did not take the message and said so (5xx, 429, 401, refused connection):
    the delivery is marked failed and the activity's retry sends it again."""

    def __init__(self, provider: str, detail: str) -> None:
        super().__init__(f"{provider}: {detail}", type="ProviderUnavailable")


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
    """E-mail and PEC written to the outbox (no provider configured, or PEC)."""


class OutboxSms(_Outbox):
    """SMS written to the outbox (no provider configured)."""


class SendGridEmail:
    provider = "sendgrid"

    def __init__(
        self, db: Database, settings: Settings, timeout: float = PROVIDER_TIMEOUT_SECONDS
    ) -> None:
        self.db = db
        self.settings = settings
        self.timeout = timeout

    def _mail(self, message: Message) -> Mail:
        mail = Mail(
            from_email=From(self.settings.sendgrid_from, self.settings.agency_name),
            to_emails=message.recipient,
            subject=message.subject,
            plain_text_content=message.body,
        )
        if self.settings.agency_email:
            mail.reply_to = ReplyTo(self.settings.agency_email, self.settings.agency_name)
        # lets the provider's event log be matched to our delivery row when reconciling
        mail.custom_arg = CustomArg("idempotency_key", message.idempotency_key)
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
        reserved, must_send = await reserve(self.db, message, self.provider)
        if not must_send:
            return reserved
        mail = self._mail(message)
        try:
            message_id = await asyncio.to_thread(self._post, mail)
        except SendGridHTTPError as exc:
            failed = await mark_failed(self.db, reserved)
            status = getattr(exc, "status_code", None)
            log.warning("sendgrid refused delivery %s: HTTP %s", reserved.delivery_id, status)
            if _permanent(status):
                return failed
            raise ProviderUnavailable(self.provider, f"HTTP {status}") from None
        except URLError as exc:
            if not isinstance(exc.reason, ConnectionRefusedError | socket.gaierror):
                # A timeout or a dropped connection may have reached SendGrid: the row stays
                # pending and the retry reports it as such rather than sending a second copy.
                raise
            await mark_failed(self.db, reserved)
            raise ProviderUnavailable(self.provider, type(exc.reason).__name__) from None
        return await mark_sent(self.db, reserved, message_id)


class TwilioSms:
    provider = "twilio"

    def __init__(
        self, db: Database, settings: Settings, timeout: float = PROVIDER_TIMEOUT_SECONDS
    ) -> None:
        self.db = db
        self.settings = settings
        self.timeout = timeout

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
        reserved, must_send = await reserve(self.db, message, self.provider)
        if not must_send:
            return reserved
        http_client = AsyncTwilioHttpClient()
        try:
            # the async client does not apply its own timeout to requests; a timeout leaves the
            # row pending (the message may have gone), which is what TimeoutError propagating does
            async with asyncio.timeout(self.timeout):
                sent = await self._client(http_client).messages.create_async(
                    to=message.recipient, from_=self.settings.twilio_from, body=message.body
                )
        except TwilioRestException as exc:
            failed = await mark_failed(self.db, reserved)
            log.warning(
                "twilio refused delivery %s: HTTP %s code %s",
                reserved.delivery_id,
                exc.status,
                exc.code,
            )
            if _permanent(exc.status):
                return failed
            raise ProviderUnavailable(self.provider, f"HTTP {exc.status}") from None
        except aiohttp.ClientConnectorError as exc:
            await mark_failed(self.db, reserved)
            raise ProviderUnavailable(self.provider, type(exc).__name__) from None
        finally:
            await http_client.close()
        return await mark_sent(self.db, reserved, sent.sid)


def email_channel_for(db: Database, settings: Settings) -> EmailChannel:
    if settings.sendgrid_api_key:
        return SendGridEmail(db, settings)
    return OutboxEmail(db)


def sms_channel_for(db: Database, settings: Settings) -> SmsChannel:
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from:
        return TwilioSms(db, settings)
    return OutboxSms(db)
