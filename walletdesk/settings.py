"""walletdesk settings: everything that differs between machines comes from the environment.

Two modes, one code path. With no environment at all this is the embedded mode: SQLite (WAL)
under ./var/, local-memory cache, in-memory channel layer, files under ./var/media/, mail kept in
./var/outbox/ (agents read it at /agent/outbox/). Set DATABASE_URL and REDIS_URL for the scale
mode. WALLETDESK_ENV=production turns the deploy checks from advice into refusal (no default
secret key, no debug).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from walletdesk.core import brand, clientip, env, filestore, ratelimit
from walletdesk.core import logs as _logs
from walletdesk.shield import logs as _shield_logs

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env.string("WALLETDESK_DATA_DIR", str(Path.cwd() / "var"))).resolve()
PRODUCTION = (
    env.choice("WALLETDESK_ENV", ("development", "production", "test"), "development") == "production"
)

DEBUG = env.boolean("DEBUG", default=False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when WALLETDESK_ENV=production.")


def _secret_key() -> str:
    # A secret never lives in code. Embedded installs get one generated once and kept under
    # ./var so sessions survive restarts; production must set SECRET_KEY itself.
    key = os.environ.get("SECRET_KEY", "")
    if key:
        if len(key) < 50:
            raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters.")
        return key
    if PRODUCTION:
        raise ImproperlyConfigured(
            "Set SECRET_KEY when WALLETDESK_ENV=production (50+ random characters, e.g. the output "
            "of: python3 -c 'import secrets; print(secrets.token_urlsafe(64))')."
        )
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
SITE_URL = env.string("SITE_URL", "http://127.0.0.1:8000").rstrip("/")


def _site_host(url: str) -> str:
    """SITE_URL's host as ALLOWED_HOSTS spells it (an IPv6 address in brackets)."""
    host = urlsplit(url).hostname or ""
    if not host or urlsplit(url).scheme not in ("http", "https"):
        raise ImproperlyConfigured(
            f"SITE_URL must be an http(s) address like https://help.example.com; got {url!r}."
        )
    return f"[{host}]" if ":" in host else host


# The local names (a probe or proxy on the same machine) and the host of SITE_URL: the address
# links are made for, and where `walletdesk up --host …` serves when SITE_URL is not set. Without
# it, `up --host 192.168.1.5` printed URLs that answered 400, and production answered 400 to
# everything until ALLOWED_HOSTS was set. Setting ALLOWED_HOSTS replaces the whole list.
ALLOWED_HOSTS = env.csv(
    "ALLOWED_HOSTS", default=list(dict.fromkeys(["localhost", "127.0.0.1", "[::1]", _site_host(SITE_URL)]))
)
CSRF_TRUSTED_ORIGINS = env.csv("CSRF_TRUSTED_ORIGINS", default=[])
# Addresses or networks of the reverse proxies in front of us; only their X-Forwarded-For is
# believed (walletdesk.core.clientip). Empty: the peer address is the client.
TRUSTED_PROXIES = clientip.validate_proxies(env.csv("TRUSTED_PROXIES", default=[]))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    # Only for its templates and static files: the API docs page serves Swagger UI from here,
    # not from a CDN our CSP (and an offline install) would refuse.
    "ninja",
    # core before django_tasks_db: its db_worker (heartbeat, recovery sweeps) shadows the stock one.
    "walletdesk.core",
    "django_tasks_db",
    # Our apps come before allauth so their templates override allauth's.
    "walletdesk.accounts",
    "walletdesk.kb",
    "walletdesk.registry",
    "walletdesk.tickets",
    "walletdesk.sla",
    "walletdesk.chat",
    "walletdesk.desk",
    "walletdesk.desk.reports",
    "walletdesk.portal",
    "walletdesk.connectors.inapp",
    "walletdesk.connectors.email.apps.EmailChannelConfig",
    "walletdesk.connectors.social",
    "walletdesk.connectors.telegram",
    "walletdesk.connectors.wechat",
    "walletdesk.connectors.x",
    "walletdesk.connectors.weibo",
    "walletdesk.connectors.webhooks",
    "walletdesk.chain",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "axes",
]

MIDDLEWARE = [
    # Outermost: the request id for every line logged below, and the request's count and time.
    "walletdesk.core.middleware.ObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "walletdesk.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything stores a header (sessions, login history, axes): see the class.
    "walletdesk.accounts.middleware.ScreenStoredHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "walletdesk.core.middleware.NoStoreMiddleware",
    "walletdesk.core.middleware.LazyMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "walletdesk.accounts.middleware.SessionActivityMiddleware",
    "walletdesk.accounts.middleware.RequireAgentMFAMiddleware",
    # Axes last: it inspects the response of the login views above it.
    "axes.middleware.AxesMiddleware",
    # Innermost: a view's "database is locked" becomes a 503, not a 500.
    "walletdesk.core.middleware.DatabaseOutageMiddleware",
]

ROOT_URLCONF = "walletdesk.urls"
ASGI_APPLICATION = "walletdesk.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "walletdesk" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "walletdesk.core.context.site",
            ],
        },
    }
]

# --- database ---------------------------------------------------------------------------------
DATABASE_URL = env.string("DATABASE_URL", "")
if DATABASE_URL:
    import dj_database_url

    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # Per session, measured at 1M tickets (bench/scale.py, docs/architecture.md "A million
        # tickets"): with the default 4 MB a search for two common words made its bitmap lossy
        # and re-tokenised 18k rows' text (2.6 s; 0.17 s with 16 MB), and JIT compiled the
        # reports' first-answer count for 0.44 s of its 0.76 s. No query here runs long enough
        # for JIT to pay; work_mem is per sort or hash node, a few per connection.
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = env.string(
            "POSTGRES_SESSION_OPTIONS", "-c work_mem=16MB -c jit=off"
        )
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "walletdesk.core.sqlite",  # Django's, plus a kernel queue for writers
            "NAME": str(DATA_DIR / "walletdesk.sqlite3"),
            "OPTIONS": {
                # WAL lets readers run beside the single writer; IMMEDIATE takes the write lock at
                # BEGIN so two writers queue on busy_timeout instead of failing mid-transaction.
                # A checkpoint runs inside the commit that crosses wal_autocheckpoint pages, while
                # that writer holds the lock every process queues on. Each copies a page once however
                # often it changed, and new tickets change the same few index pages over and over:
                # every 10,000 pages instead of SQLite's 1,000 costs 8% less per batch of tickets
                # written (measured; ~10 ms per checkpoint, a 40 MB WAL at most).
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA mmap_size=134217728; PRAGMA cache_size=-32000; "
                    "PRAGMA wal_autocheckpoint=10000;"
                ),
                "transaction_mode": "IMMEDIATE",
                # How long a writer waits for the lock before "database is locked" (then a 503).
                "timeout": env.integer("SQLITE_BUSY_TIMEOUT", 20),
            },
            # The connection lives as long as the process (see core/asgi.py): reopening SQLite
            # per request, and checkpointing the WAL on every close, cost more than the request.
            "CONN_MAX_AGE": None,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Threads per web process for the sync views and the sockets' database work (core/asgi.py): a
# request waiting on the database no longer holds up the others of its process. Each keeps a
# connection open. SQLite gets two: its writers queue on one lock anyway, and a thread waiting
# for the GIL while holding that lock makes every other writer wait too.
WEB_THREADS = env.integer("WEB_THREADS", 4 if DATABASE_URL else 2)
if WEB_THREADS < 1:
    raise ImproperlyConfigured(f"WEB_THREADS must be 1 or more; got {WEB_THREADS}.")

# --- cache, channels ----------------------------------------------------------------------------
REDIS_URL = env.string("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    # redis-py's defaults do not fit channels-redis: a 5 s socket timeout equals the layer's
    # 5 s BRPOP, so an idle receive loop died with TimeoutError; a pool of 100 connections ran
    # out when many sockets closed at once (group_discard). A busy agent socket (50 chats)
    # needs more than 100 queued events before it reads again (bench/chat_load.py).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30, "max_connections": 10_000}],
                "capacity": 1000,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}
    }
# The in-memory layer reaches one process's sockets; this carries live events between the
# embedded mode's processes through the database (core.live).
LIVE_BRIDGE = env.boolean("LIVE_BRIDGE", True)
# #22: offer one article's passage on a new request when retrieval is sure (kb/answer.py).
FIRST_ANSWER = env.boolean("FIRST_ANSWER", True)
# On-chain look-ups: seconds to wait for one JSON-RPC URL before trying the next (walletdesk.chain.rpc)
CHAIN_RPC_TIMEOUT = env.integer("CHAIN_RPC_TIMEOUT", 5)
# ...and for a whole look-up on the agent's panel (every chain, every URL): the panel loads after
# the page, so this bounds how long an agent waits for "unavailable" (walletdesk.chain.lookup)
CHAIN_LOOKUP_BUDGET = env.integer("CHAIN_LOOKUP_BUDGET", 8)
# A live chat nobody has written in for this long is ended (chat.actions.end_idle).
CHAT_IDLE_MINUTES = env.integer("CHAT_IDLE_MINUTES", 30)

# --- background tasks -------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": env.string("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "email", "sla"],
    }
}
# Crash recovery (core.leases, core.worker): each worker renews a heartbeat row; the RUNNING
# task of a worker whose heartbeat is older than the lease (or whose process is gone, on the
# same machine) goes back to the queue, at most TASK_MAX_ATTEMPTS times. Sweeps run at worker
# start and every WORKER_SWEEP_SECONDS.
WORKER_HEARTBEAT_SECONDS = env.integer("WORKER_HEARTBEAT_SECONDS", 10)
WORKER_LEASE_SECONDS = env.integer("WORKER_LEASE_SECONDS", 60)
WORKER_SWEEP_SECONDS = env.integer("WORKER_SWEEP_SECONDS", 60)
# `walletdesk up`'s worker runs at SCHED_IDLE; when the task it claims waited longer than this,
# the supervisor starts a catch-up worker at normal priority until the queue is fresh (core.worker).
WORKER_BOOST_AFTER_SECONDS = env.integer("WORKER_BOOST_AFTER_SECONDS", 10)

# The chain monitor (chain/tasks.py): how often a chain is polled for new blocks, and how long a
# worker's lease on a chain lasts (a killed worker's chain is taken over after it).
CHAIN_POLL_SECONDS = env.integer("CHAIN_POLL_SECONDS", 2)
CHAIN_MONITOR_LEASE_SECONDS = env.integer("CHAIN_MONITOR_LEASE_SECONDS", 60)
TASK_MAX_ATTEMPTS = env.integer("TASK_MAX_ATTEMPTS", 5)
if WORKER_LEASE_SECONDS < 3 * WORKER_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured("WORKER_LEASE_SECONDS must be at least three heartbeats")

# --- auth -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:my_requests"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PREVENT_ENUMERATION = True
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "walletdesk"
MFA_TOTP_TOLERANCE = 1  # accept the neighbouring 30 s window: phone clocks drift

ACCOUNT_ADAPTER = "walletdesk.accounts.adapters.AccountAdapter"
# Hashes the password on the "email already has an account" path too, so both take as long.
ACCOUNT_FORMS = {"signup": "walletdesk.accounts.forms.SignupForm"}
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[walletdesk] "
# Password-reset links (allauth uses Django's token generator): single use, and expiring.
PASSWORD_RESET_TIMEOUT = env.integer("PASSWORD_RESET_MINUTES", 60) * 60
# Axes owns failed-login lockout; allauth's own per-email "login_failed" limit is switched off so
# a locked-out user sees one lockout page, not two different messages.
ACCOUNT_RATE_LIMITS = {
    "login": env.string("RATE_LIMIT_LOGIN", "30/m/ip"),
    "login_failed": None,
    "reset_password": env.string("RATE_LIMIT_PASSWORD_RESET", "20/m/ip,5/m/key"),
    "reset_password_from_key": "20/m/ip",
    "signup": env.string("RATE_LIMIT_SIGNUP", "20/m/ip"),
}
MFA_ADAPTER = "walletdesk.accounts.adapters.MFAAdapter"
MFA_RECOVERY_CODE_COUNT = 10
MFA_FORMS = {"activate_totp": "walletdesk.accounts.forms.ActivateTOTPForm"}
# The password is asked again before security changes (2FA on/off, recovery codes) once the
# last sign-in or confirmation is older than this. allauth counted only an explicit
# confirmation, so 2FA set-up straight after signing in asked for the password again; our
# adapter (AccountAdapter.is_reauthentication_required) counts the sign-in too. 15 minutes
# covers reading the steps and installing an authenticator app, and still guards the real
# risk: a session left open, or its cookie stolen, later on.
ACCOUNT_REAUTHENTICATION_TIMEOUT = 15 * 60
ACCOUNT_REAUTHENTICATION_METHODS = ("password", "mfa")
# Staff without 2FA are sent to enrolment before they can use /agent/.
REQUIRE_AGENT_MFA = env.boolean("REQUIRE_AGENT_MFA", PRODUCTION)
USERSESSIONS_TRACK_ACTIVITY = False  # our SessionActivityMiddleware updates last-seen, throttled

# Two limits (walletdesk/accounts/lockout.py): LOCKOUT_FAILURES on one account lock that account;
# LOCKOUT_IP_FAILURES from one address, across accounts, throttle that address. The second is far
# higher because carrier NAT and offices put thousands of people behind one address; one
# customer's typos never lock anyone else. Both within LOCKOUT_MINUTES, counted in the database
# (shared by every process).
AXES_FAILURE_LIMIT = env.integer("LOCKOUT_FAILURES", 5)
AXES_COOLOFF_TIME = env.integer("LOCKOUT_MINUTES", 30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username"]]
AXES_HANDLER = "walletdesk.accounts.lockout.LockoutHandler"
LOCKOUT_IP_FAILURES = env.integer("LOCKOUT_IP_FAILURES", 100)  # 0 turns the per-IP limit off
# A browser that signed in to an account before still reaches it from a throttled address.
LOCKOUT_DEVICE_COOKIE_DAYS = env.integer("LOCKOUT_DEVICE_COOKIE_DAYS", 365)
# A refused attempt is not counted again: someone refused at a throttled address must not lock
# their own account by retrying, and a locked account's cool-off runs from its last real failure.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# X-Forwarded-For only from the proxies in TRUSTED_PROXIES (walletdesk/core/clientip.py).
AXES_CLIENT_IP_CALLABLE = "walletdesk.core.clientip.client_ip"
AXES_USERNAME_FORM_FIELD = "login"
# Axes keeps a failed sign-in's form fields; what was typed as the login is kept screened in the
# username column (accounts.lockout.normalise), never raw in post_data.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "login", "email", "password"]
# allauth authenticates with `email=`; this reads it (lower-cased) so attempts key on the account.
AXES_USERNAME_CALLABLE = "walletdesk.accounts.lockout.attempted_username"
AXES_LOCKOUT_CALLABLE = "walletdesk.accounts.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_ENABLED = env.boolean("AXES_ENABLED", True)
# axes warns when its lockout parameters leave out the IP; the per-IP limit is LockoutHandler's.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Self-service unlock links, and the limits on unlock requests and document uploads (core.ratelimit,
# shared by every process).
UNLOCK_LINK_MAX_AGE_MINUTES = env.integer("UNLOCK_LINK_MAX_AGE_MINUTES", 60)
# Transaction look-ups per agent (the desk's on-chain panel and its paste form): each may cost
# several JSON-RPC calls on a node that rate-limits us in turn.
RATE_LIMIT_CHAIN_LOOKUP = ratelimit.validate(
    env.string("RATE_LIMIT_CHAIN_LOOKUP", "60/m/key"), "RATE_LIMIT_CHAIN_LOOKUP"
)
# The customer's status line of their own transaction (portal), per client address
RATE_LIMIT_CHAIN_STATUS = ratelimit.validate(
    env.string("RATE_LIMIT_CHAIN_STATUS", "30/m/ip"), "RATE_LIMIT_CHAIN_STATUS"
)
RATE_LIMIT_UNLOCK = ratelimit.validate(env.string("RATE_LIMIT_UNLOCK", "5/h/ip"), "RATE_LIMIT_UNLOCK")
RATE_LIMIT_DOCUMENT_UPLOAD = ratelimit.validate(
    env.string("RATE_LIMIT_DOCUMENT_UPLOAD", "10/h/ip"), "RATE_LIMIT_DOCUMENT_UPLOAD"
)
# "Someone tried to sign up with your address" mails per address: sign-up answers a known
# email like a new one, so without this anyone could post carol's address from many IPs and
# fill her inbox from our server. Over the limit the page is the same and no mail is sent.
RATE_LIMIT_ACCOUNT_EXISTS_MAIL = ratelimit.validate(
    env.string("RATE_LIMIT_ACCOUNT_EXISTS_MAIL", "3/h/email"), "RATE_LIMIT_ACCOUNT_EXISTS_MAIL"
)
# Password-reset mails (and the "no account with this address" notice) per address, likewise.
RATE_LIMIT_PASSWORD_RESET_MAIL = ratelimit.validate(
    env.string("RATE_LIMIT_PASSWORD_RESET_MAIL", "5/h/email"), "RATE_LIMIT_PASSWORD_RESET_MAIL"
)
# Guests (no session, no agent token, no app key) opening tickets and replying through a
# tracking link, counted in Redis or the database so every process shares one budget. The IP
# rates are loose on purpose: an office or a carrier NAT puts many honest people behind one
# address; the per-email rates stop one sender. Empty = no limit.
RATE_LIMIT_GUEST_TICKET = ratelimit.validate(
    env.string("RATE_LIMIT_GUEST_TICKET", "300/h/ip,10/h/email"), "RATE_LIMIT_GUEST_TICKET"
)
# A guest's report in a security category (stolen account, unauthorised transaction) counts in
# its own bucket, so other people's traffic behind one carrier NAT cannot lock a theft victim
# out (tickets/guestlimits.py says why it still has a per-address limit).
RATE_LIMIT_GUEST_SECURITY_REPORT = ratelimit.validate(
    env.string("RATE_LIMIT_GUEST_SECURITY_REPORT", "100/h/ip,5/h/email"), "RATE_LIMIT_GUEST_SECURITY_REPORT"
)
RATE_LIMIT_GUEST_REPLY = ratelimit.validate(
    env.string("RATE_LIMIT_GUEST_REPLY", "600/h/ip,60/h/email"), "RATE_LIMIT_GUEST_REPLY"
)
# Guests starting live chats, and files sent into chats (chat.api), likewise.
RATE_LIMIT_GUEST_CHAT = ratelimit.validate(
    env.string("RATE_LIMIT_GUEST_CHAT", "300/h/ip,10/h/email"), "RATE_LIMIT_GUEST_CHAT"
)
RATE_LIMIT_GUEST_CHAT_FILES = ratelimit.validate(
    env.string("RATE_LIMIT_GUEST_CHAT_FILES", "120/h/ip"), "RATE_LIMIT_GUEST_CHAT_FILES"
)

# Triage overrules a customer's non-security category when the text scores at least this for
# account_stolen or unauthorised_tx (one strong rule weighs 2; tickets/screening.triage_ticket).
TRIAGE_OVERRIDE_MIN_SCORE = env.number("TRIAGE_OVERRIDE_MIN_SCORE", 2.0)
if TRIAGE_OVERRIDE_MIN_SCORE <= 0:
    # At 0 a text matching no rule at all would overrule the customer whenever triage's
    # fallback guess happened to be a security category.
    raise ImproperlyConfigured("TRIAGE_OVERRIDE_MIN_SCORE must be above 0")

# --- health and outages (core/views.py) ---------------------------------------------------------
READYZ_TOKEN = env.string("READYZ_TOKEN", "")  # bearer token that sees /readyz's detail
READYZ_MIN_FREE_MB = env.integer("READYZ_MIN_FREE_MB", 200)  # free disk under the data directory
READYZ_DB_TIMEOUT = env.integer("READYZ_DB_TIMEOUT_MS", 1000) / 1000  # the probe write's lock wait
READYZ_MAX_QUEUE_LAG_SECONDS = env.integer("READYZ_MAX_QUEUE_LAG_SECONDS", 300)
READYZ_MAX_WORKER_SILENCE_SECONDS = env.integer("READYZ_MAX_WORKER_SILENCE_SECONDS", 120)
if READYZ_MAX_WORKER_SILENCE_SECONDS < 2 * WORKER_HEARTBEAT_SECONDS:
    # A healthy worker beats every WORKER_HEARTBEAT_SECONDS; a shorter limit would report it
    # dead between two beats and take the service out of the load balancer for nothing.
    raise ImproperlyConfigured("READYZ_MAX_WORKER_SILENCE_SECONDS must be at least two worker heartbeats")
RETRY_AFTER_SECONDS = env.integer("RETRY_AFTER_SECONDS", 30)  # on a 503 while the database cannot serve

# --- i18n -------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
# zh-hant serves Taiwan and Hong Kong: Django's LocaleMiddleware maps Accept-Language zh-TW,
# zh-HK, zh-MO and zh-Hant(-*) to it (LANG_INFO fallbacks), and zh-CN / zh-SG / zh-Hans to zh-hans.
# Its catalogues are generated from zh_Hans by scripts/make_zh_hant (OpenCC, Taiwan phrasing).
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文"), ("zh-hant", "繁體中文")]
LOCALE_PATHS = [BASE_DIR / "walletdesk" / "locale"]
USE_I18N = True
TIME_ZONE = env.string("TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

# --- files ------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
if not PRODUCTION:
    # WhiteNoise serves from the finders here, but warns on every start if the root is missing.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "walletdesk" / "static"]
MEDIA_ROOT = Path(env.string("MEDIA_ROOT", str(DATA_DIR / "media")))
# Attachments are never served from a public URL; views stream them after a permission check.
MEDIA_URL = "/media-not-served/"


STORAGES = {
    "default": filestore.from_env(),  # local files, or an S3 bucket (core.filestore)
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
ATTACHMENT_MAX_BYTES = env.integer("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
ATTACHMENT_MAX_COUNT = env.integer("ATTACHMENT_MAX_COUNT", 5)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Identity documents (account recovery): encrypted at rest with MultiFernet. The first key
# encrypts; the others still decrypt, so a new key is added in front to rotate.
DOCUMENT_MAX_BYTES = env.integer("DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)
DOCUMENT_MAX_COUNT = env.integer("DOCUMENT_MAX_COUNT", 4)
DOCUMENT_RETENTION_DAYS = env.integer("DOCUMENT_RETENTION_DAYS", 30)


def _document_keys() -> list[str]:
    from cryptography.fernet import Fernet

    keys = env.csv("DOCUMENT_KEYS", default=[])
    if not keys:
        if PRODUCTION:
            raise ImproperlyConfigured("Set DOCUMENT_KEYS (Fernet keys) when WALLETDESK_ENV=production.")
        path = DATA_DIR / "document_key"
        if not path.exists():
            DATA_DIR.mkdir(parents=True, exist_ok=True)
            path.write_text(Fernet.generate_key().decode())
            path.chmod(0o600)
        keys = [path.read_text().strip()]
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                "DOCUMENT_KEYS must be comma-separated Fernet keys (32 url-safe base64-encoded bytes)."
            ) from None
    return keys


DOCUMENT_KEYS = _document_keys()
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- mail -------------------------------------------------------------------------------------
# Production never falls back to the outbox: sign-up, reset and security mails must go out,
# so without EMAIL_HOST it relays through a local MTA.
_smtp_host = env.string("EMAIL_HOST", "localhost" if PRODUCTION else "")
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": _smtp_host,
            "port": env.integer("EMAIL_PORT", 25),
            "username": env.string("EMAIL_HOST_USER", ""),
            "password": env.string("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env.boolean("EMAIL_USE_TLS", False),
            "timeout": 20,
        },
    }
    if _smtp_host
    # Demo and development: each mail is kept as a file under var/outbox/ and agents read it at
    # /agent/outbox/ (core.outbox); the console backend buried the demo logins under raw MIME.
    else {"BACKEND": env.string("EMAIL_BACKEND", "walletdesk.core.outbox.OutboxBackend")}
}
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL", "walletdesk support <support@walletdesk.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Email channel (walletdesk.connectors.email): mailboxes are configured in the admin.
EMAIL_POLL_SECONDS = env.integer("EMAIL_POLL_SECONDS", 30)  # tick of the poll task
EMAIL_IMAP_BATCH = env.integer("EMAIL_IMAP_BATCH", 50)  # mails per FETCH, stored then flagged
EMAIL_IMAP_TIMEOUT = env.integer("EMAIL_IMAP_TIMEOUT", 30)
EMAIL_INGEST_COMMIT_EVERY = env.integer("EMAIL_INGEST_COMMIT_EVERY", 25)  # per commit: half an IMAP batch
# Processes forked to parse and draft the next batch while the poller stores one (core.helpers);
# one per spare core, up to two. 0 does everything in the poller's own process.
HELPER_PROCESSES = env.integer("HELPER_PROCESSES", min(2, (os.cpu_count() or 1) - 1))
EMAIL_AUTO_REPLY_LIMIT_PER_HOUR = env.integer("EMAIL_AUTO_REPLY_LIMIT_PER_HOUR", 5)  # per address
EMAIL_SEND_MAX_ATTEMPTS = env.integer("EMAIL_SEND_MAX_ATTEMPTS", 5)
EMAIL_SEND_RETRY_BASE_SECONDS = env.integer("EMAIL_SEND_RETRY_BASE_SECONDS", 60)  # x4 per attempt
# A mail left "sending" this long (its worker died mid-send) is sent again, once, same Message-ID.
EMAIL_SENDING_LEASE_SECONDS = env.integer("EMAIL_SENDING_LEASE_SECONDS", 300)
# Acknowledgements per worker batch (queued acknowledgement tasks run together over one SMTP
# connection), and per chunk: one UPDATE marks a chunk sent and claims the next. Each mail the
# server accepted is written to the sent journal at once (connectors/email/journal.py), so a
# worker killed mid-chunk sends at most one mail twice, the one whose reply it never read.
EMAIL_SEND_BATCH = env.integer("EMAIL_SEND_BATCH", 200)
EMAIL_SEND_CHUNK = env.integer("EMAIL_SEND_CHUNK", 20)
# fdatasync each journal line: the bound holds through a kernel crash or power cut too. Off, a
# line outlives the process (kill -9, OOM) but not the machine (then: one chunk twice at most).
EMAIL_JOURNAL_FSYNC = env.boolean("EMAIL_JOURNAL_FSYNC", True)
EMAIL_MESSAGE_ID_DOMAIN = env.string("EMAIL_MESSAGE_ID_DOMAIN", "")  # default: DEFAULT_FROM_EMAIL's
# Inbound mail is believed to come from its From address only when it is authenticated
# (connectors/email/authn.py): a valid DKIM signature aligned with the From domain, or an
# Authentication-Results header (dmarc=pass or aligned dkim=pass) written by one of these
# servers (their authserv-id). Anyone can write that header, so none is trusted by default.
EMAIL_TRUSTED_AUTHSERV_IDS = env.csv("EMAIL_TRUSTED_AUTHSERV_IDS", [])
EMAIL_DKIM_VERIFY = env.boolean("EMAIL_DKIM_VERIFY", True)  # check DKIM signatures ourselves
EMAIL_DKIM_DNS_TIMEOUT = env.integer("EMAIL_DKIM_DNS_TIMEOUT", 5)  # seconds per key lookup

# Social channels (walletdesk.connectors.social and one package per provider): accounts are
# made with `walletdesk manage connect` or in the admin.
SOCIAL_HTTP_TIMEOUT_SECONDS = env.integer("SOCIAL_HTTP_TIMEOUT_SECONDS", 10)  # per provider call
# A message left "sending" this long (its worker died mid-send) is tried again.
SOCIAL_SENDING_LEASE_SECONDS = env.integer("SOCIAL_SENDING_LEASE_SECONDS", 120)

# Outbound webhooks (walletdesk.connectors.webhooks): endpoints are made in the admin.
WEBHOOK_TIMEOUT_SECONDS = env.integer("WEBHOOK_TIMEOUT_SECONDS", 10)  # connect, read, write each
WEBHOOK_MAX_ATTEMPTS = env.integer("WEBHOOK_MAX_ATTEMPTS", 8)
WEBHOOK_RETRY_BASE_SECONDS = env.integer("WEBHOOK_RETRY_BASE_SECONDS", 30)  # doubled per attempt, <= 1 h
# A delivery left "sending" this long (its worker died mid-POST) is sent again.
WEBHOOK_SENDING_LEASE_SECONDS = env.integer("WEBHOOK_SENDING_LEASE_SECONDS", 120)
# A waiting delivery this overdue lost its task: the worker's sweep enqueues it again.
WEBHOOK_SWEEP_GRACE_SECONDS = env.integer("WEBHOOK_SWEEP_GRACE_SECONDS", 120)
# Loopback and private networks (SSRF): refused in production unless this says otherwise.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.boolean("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", not PRODUCTION)
if WEBHOOK_SENDING_LEASE_SECONDS <= 5 * WEBHOOK_TIMEOUT_SECONDS:
    # An attempt may take connect + write + read timeouts and the answer's bounded read
    # (delivery._post); a shorter lease would let the sweep send it a second time meanwhile.
    raise ImproperlyConfigured("WEBHOOK_SENDING_LEASE_SECONDS must exceed five WEBHOOK_TIMEOUT_SECONDS")

# --- the operator's brand (core.brand): name, logo and colours used by the base templates ------
BRAND_NAME = brand.name(env.string("BRAND_NAME", ""))
BRAND_LOGO = brand.logo(env.string("BRAND_LOGO", ""))
BRAND_COLOR = brand.check_link_colour(brand.color("BRAND_COLOR", env.string("BRAND_COLOR", "")))
BRAND_TEXT_COLOR = brand.text_on(
    BRAND_COLOR, brand.color("BRAND_TEXT_COLOR", env.string("BRAND_TEXT_COLOR", ""))
)

# --- product settings -------------------------------------------------------------------------
TRACKING_LINK_MAX_AGE_DAYS = env.integer("TRACKING_LINK_MAX_AGE_DAYS", 30)
# The link that proves a typed email address belongs to the person (tickets/identity.py).
EMAIL_CONFIRM_LINK_MAX_AGE_DAYS = env.integer("EMAIL_CONFIRM_LINK_MAX_AGE_DAYS", 7)
KB_INDEX_CHECK_SECONDS = env.integer("KB_INDEX_CHECK_SECONDS", 2)  # article edits reach every process
# Dense retrieval (#22): a task embeds articles and solved tickets with the bundled e5 model;
# the search page, the search API and the desk's similar tickets mix it with BM25. Off: lexical
# only, and no embedding task is enqueued (the tests turn it on where they test it).
KB_DENSE = env.boolean("KB_DENSE", True)
# The worker's sweep runs SLA checks this overdue whose task was lost (a failed or dead run).
SLA_SWEEP_GRACE_SECONDS = env.integer("SLA_SWEEP_GRACE_SECONDS", 300)
# First-reply promise per priority, in hours, until SLA policies say otherwise.
FIRST_REPLY_HOURS = {"urgent": 1, "high": 4, "normal": 24, "low": 48}

# --- security ---------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"
)
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# No log line may carry a recovery phrase or key (a 404's path, a header quoted in an error):
# every record this process creates passes the shield (walletdesk.shield.logs), whichever
# handler writes it, uvicorn's own included; the filter on ours is the same check, kept should
# a record come from elsewhere (a pickled record, a custom factory installed later).
_shield_logs.install()
# Log lines: JSON objects (one per line) for a log pipeline, or short text lines for a terminal;
# every line carries the request id it was logged under (walletdesk.core.logs).
LOG_FORMAT = env.choice("LOG_FORMAT", ("json", "text"), "json" if PRODUCTION else "text")
LOGGING = _logs.config(json_lines=LOG_FORMAT == "json", level=env.string("LOG_LEVEL", "WARNING"))

# --- metrics (walletdesk.core.metrics) ----------------------------------------------------------
# /metrics answers only `Authorization: Bearer $METRICS_TOKEN`; without a token it does not exist
# (404). Every process of this machine writes its figures under METRICS_DIR (a local directory;
# tmpfs is fine); /metrics adds them up. It must be set before prometheus-client is imported.
METRICS_TOKEN = env.string("METRICS_TOKEN", "")
# The default is in RAM (/dev/shm), one folder per data directory, not on the data disk: the
# figures are mmap'd files, and a page first touched while that disk is full kills the process
# with SIGBUS (seen in tests/faults/test_disk_full.py: the web processes died instead of
# answering 503).


def _metrics_default() -> Path:
    # /dev/shm is shared by every user: the folder carries our uid and must be ours, a real
    # folder and closed to others (someone else's planted folder or link could read or forge
    # the figures); otherwise the data directory is used.
    shm = Path("/dev/shm")  # noqa: S108 (ownership and mode checked below)
    tag = hashlib.sha256(str(DATA_DIR.resolve()).encode()).hexdigest()[:12]
    folder = shm / f"walletdesk-metrics-{os.getuid()}-{tag}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return DATA_DIR / "metrics"
    if folder.is_symlink() or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return DATA_DIR / "metrics"
    return folder


METRICS_DIR = Path(env.string("METRICS_DIR", "") or _metrics_default()).resolve()
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(METRICS_DIR)

NINJA_PAGINATION_MAX_LIMIT = 100
