"""Settings for the test suite: the real settings with a throwaway home and a fixed key."""

import os
import tempfile

os.environ.setdefault("SPREADSCALE_SECRET_KEY", "test-only-key-not-secret-" + "x" * 30)
os.environ.setdefault("SPREADSCALE_HOME", tempfile.mkdtemp(prefix="spreadscale-test-"))

from spreadscale.web.settings import *  # noqa: F403

# Hashing demo and persona passwords at full strength would dominate the suite's run time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
