"""Test-only entry point of a real worker process: `python -m tests.system.launch`.

It is `recupero worker` with one difference no environment variable can make: the contact rules
read a clock that is always inside the contact hours (`Settings.contact_clock`, tests only), so
e-mail copies and calls move at night and on Sundays too, as in the in-process API tests.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from config import load_settings
from domain.contact_rules import next_window_start
from worker import run_worker


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    settings = dataclasses.replace(load_settings(), contact_clock=next_window_start)
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
