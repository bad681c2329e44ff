"""Settings for the test suite: the same as production's reader, with test files under var/test/ so a
running `make run` and a test run never share a database file or a broker folder."""

import os
from pathlib import Path

os.environ.setdefault("VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))
os.environ.setdefault("MODELS_STORE", str(Path(os.environ["VAR_DIR"]) / "models_store"))

from webapp.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
# Ratings exact after every vote (tests/arena/test_tallies.py turns the refit window on where it is tested).
ARENA_REFIT_SECONDS = int(os.environ.get("ARENA_REFIT_SECONDS", "0"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405  (WhiteNoise warns when it is missing)
