"""A real SMTP server on localhost for tests (aiosmtpd), collecting what it receives."""

from __future__ import annotations

import html
import json
import re
import socket
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class _Collect:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


class SmtpServer:
    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.handler = _Collect()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


def airflow_connection(port: int) -> str:
    """An Airflow SMTP connection to localhost, plain SMTP (no TLS), as the value of an
    `AIRFLOW_CONN_...` environment variable."""
    return json.dumps(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "extra": {
                "from_email": "closeflow@example.com",
                "disable_ssl": True,
                "disable_tls": True,
                "timeout": 5,
                "retry_limit": 0,
            },
        }
    )


def text_of(message: EmailMessage) -> str:
    """A mail's HTML body as the text a reader sees: tags dropped, entities decoded."""
    [body] = [p for p in message.walk() if p.get_content_type() == "text/html"]
    return html.unescape(re.sub(r"<[^>]+>", "", body.get_content()))
