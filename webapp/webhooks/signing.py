"""Standard Webhooks signing (https://www.standardwebhooks.com/, "Signature scheme"): the secret is
"whsec_" + base64 of random bytes; the signature is "v1," + base64 of HMAC-SHA256, keyed with the secret's
decoded bytes, of "{webhook-id}.{webhook-timestamp}.{body}"."""

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the specification asks for 24 to 64


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_event_id() -> str:
    """A unique `webhook-id`: no full stop in it, since it is part of the signed content."""
    return "msg_" + secrets.token_urlsafe(18)


def signature(secret: str, event_id: str, timestamp: int, body: str) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{event_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, event_id: str, timestamp: int, body: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, event_id, timestamp, body),
    }
