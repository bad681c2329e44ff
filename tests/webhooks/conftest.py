import pytest

from tests.webhooks.receiver import Receiver
from webapp.webhooks.services import endpoint_create


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def endpoint(db, receiver):
    """An endpoint that receives every event at the local receiver (whose `secret` it sets)."""
    created = endpoint_create(url=receiver.url, description="local receiver")
    receiver.secret = created.secret
    return created


@pytest.fixture
def quick_retries(settings):
    settings.WEBHOOK_RETRY_DELAYS = [0.0, 0.0]
    settings.WEBHOOK_TIMEOUT_SECONDS = 5.0
