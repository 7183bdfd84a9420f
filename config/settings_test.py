"""Test overrides only: the real configuration minus what is slow or flaky."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "t" * 40)

from .settings import *  # noqa: E402, F403

STORAGES = {
    **STORAGES_FILES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise.")]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False
MEDIA_ROOT = BASE_DIR / "media-test"
# Each test process keeps its figures in its own memory, and nothing is warmed behind a test's
# back, whatever CACHE_URL the shell exports (tests/reporting/test_warming.py turns it on).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
FIGURES_WARM = False
