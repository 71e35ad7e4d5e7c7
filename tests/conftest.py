import os
from typing import Iterator

import pytest
import trustme
from hypothesis import HealthCheck, settings

from support.servers import BlobServer, make_ca, server_context

# The issue asks for at least 500 examples per property in CI; that is the default here.
settings.register_profile("ci", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """A throw-away certificate authority (trustme) for the TLS tests of one module."""
    return make_ca()


@pytest.fixture(scope="module")
def blob_server() -> Iterator[BlobServer]:
    """A loopback HTTP server of deterministic content (tests/support/servers.py)."""
    with BlobServer() as server:
        yield server


@pytest.fixture(scope="module")
def tls_server(ca: trustme.CA) -> Iterator[BlobServer]:
    """A BlobServer over TLS with a certificate from `ca`."""
    with BlobServer(tls_context=server_context(ca)) as server:
        yield server
