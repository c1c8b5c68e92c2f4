"""Every secret the tests use; tests/conftest.py fails the session if one reaches a log record.

Add a test's own secrets (a webhook secret, a second token) with ``SECRETS.update(...)``.
"""

from __future__ import annotations

from tests.botapi.fixtures import TEST_TOKEN

SECRETS: set[str] = {TEST_TOKEN, TEST_TOKEN.split(":", 1)[1]}
