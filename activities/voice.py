"""Click-to-call through Twilio: the operator's phone rings first and, once answered, Twilio dials
the debtor and bridges the two. A live operator is on the line from the first ring: no
recording, no message played to the debtor.

Without Twilio's credentials nothing here is called: the API gives the operator the number to
dial by hand (api/routers/worklists.py). Numbers are personal data: they go to Twilio only, never
to the logs or into error messages.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client as TwilioClient
from twilio.twiml.voice_response import VoiceResponse

from config import Settings

log = logging.getLogger(__name__)

PROVIDER_TIMEOUT_SECONDS = 30.0


class CallNotPlaced(Exception):
    """Twilio did not create the call (refused, unreachable, no answer in time). The message
    names the HTTP status or the error kind, never a number."""


def voice_configured(settings: Settings) -> bool:
    return bool(settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from)


def bridge_twiml(caller_id: str, debtor_phone: str) -> str:
    """What Twilio runs once the operator answers: dial the debtor, showing the agency's number.
    Built by twilio's own TwiML writer, so the values are escaped as XML."""
    response = VoiceResponse()
    response.dial(debtor_phone, caller_id=caller_id)
    return str(response.to_xml(xml_declaration=False))


def _client(settings: Settings, http_client: AsyncTwilioHttpClient) -> TwilioClient:
    client = TwilioClient(
        settings.twilio_account_sid, settings.twilio_auth_token, http_client=http_client
    )
    if settings.twilio_base_url:
        # twilio 9 builds every Calls URL from the Api domain's base_url (as for TwilioSms)
        client.api.base_url = settings.twilio_base_url
    return client


async def ring_operator(
    settings: Settings,
    operator_phone: str,
    debtor_phone: str,
    *,
    timeout: float = PROVIDER_TIMEOUT_SECONDS,
) -> str:
    """Creates the call (To = the operator, From = the agency's number, TwiML dialing the
    debtor) and returns its sid. Raises CallNotPlaced when Twilio did not take it."""
    http_client = AsyncTwilioHttpClient()
    try:
        # the async client applies no timeout of its own
        async with asyncio.timeout(timeout):
            call = await _client(settings, http_client).calls.create_async(
                to=operator_phone,
                from_=settings.twilio_from,
                twiml=bridge_twiml(settings.twilio_from, debtor_phone),
            )
    except TwilioRestException as exc:
        log.warning("twilio refused a click-to-call: HTTP %s code %s", exc.status, exc.code)
        raise CallNotPlaced(f"Twilio refused the call (HTTP {exc.status})") from None
    except aiohttp.ClientError as exc:
        log.warning("twilio not reached for a click-to-call: %s", type(exc).__name__)
        raise CallNotPlaced(f"Twilio was not reached ({type(exc).__name__})") from None
    except TimeoutError:
        log.warning("twilio did not answer a click-to-call in %ss", timeout)
        raise CallNotPlaced(
            "Twilio did not answer in time: your phone may still ring; if it does not, take the "
            "call again"
        ) from None
    finally:
        await http_client.close()
    sid: str = call.sid
    return sid
