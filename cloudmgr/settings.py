"""Django settings for the cloudmgr controller, read from CLOUDMGR_* environment variables.

Defaults are safe for a single development machine; docs/configuration.md lists
every variable.
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .env import database_from_url, env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("CLOUDMGR_DEBUG", False)
SECRET_KEY = env_str("CLOUDMGR_SECRET_KEY")
if not SECRET_KEY:
    raise ImproperlyConfigured("CLOUDMGR_SECRET_KEY must be set (make run writes one to var/env)")
# The host names the controller answers for; `make run` sets its own, production lists its public names.
ALLOWED_HOSTS = env_list("CLOUDMGR_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CLOUDMGR_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Index and constraint expressions with operator classes (the networks app's exclusion constraints).
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "apps.core",
    "apps.identity",
    "apps.quotas",
    "apps.audit",
    "apps.jobs",
    "apps.metering",
    "apps.infrastructure",
    "apps.compute",
    "apps.portal",
    "apps.images",
    "apps.networks",
    "apps.monitoring",
    "apps.billing",
]

MIDDLEWARE = [
    # First, so the time of every answer, errors included, is counted for /metrics.
    "apps.monitoring.request_metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.core.middleware.ClientAddressMiddleware",
    "apps.core.middleware.DatabaseOutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "cloudmgr.urls"
WSGI_APPLICATION = "cloudmgr.wsgi.application"

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
            ],
        },
    },
]

_database = database_from_url(env_str("CLOUDMGR_DATABASE_URL", "postgres:///cloudmgr"))
# Connections are kept between requests; no per-request health check query, so an
# authenticated request costs only the statements it needs.
_database["CONN_MAX_AGE"] = env_int("CLOUDMGR_DB_CONN_MAX_AGE", 60)
DATABASES = {
    "default": _database,
    # A second connection to the same database: audit records of failed operations
    # commit on it, so they survive the rollback of the operation they describe.
    # In tests it is the same database (MIRROR): emptied once after a transactional test, not twice.
    "audit": {**_database, "TEST": {"MIRROR": "default"}},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = [
    "apps.identity.backends.CloudmgrBackend",
    # Answers only when CLOUDMGR_LDAP_ENABLED is set.
    "apps.identity.directory.backend.DirectoryBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
if env_bool("CLOUDMGR_FAST_PASSWORD_HASHER", False):
    # Tests and benches create thousands of users; PBKDF2 would dominate their run time.
    PASSWORD_HASHERS.insert(0, "django.contrib.auth.hashers.MD5PasswordHasher")
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Only for operators who let a web server serve `collectstatic` output; WhiteNoise needs none.
STATIC_ROOT = env_str("CLOUDMGR_STATIC_ROOT") or None
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise serves straight from the finders, so no collectstatic step is needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# TLS ends at a reverse proxy in front of every controller (docs/install.md): believe its
# X-Forwarded-Proto, keep cookies off plain HTTP, send everything else to HTTPS, and tell
# browsers to come back only over HTTPS (HSTS).
CLOUDMGR_TLS = env_bool("CLOUDMGR_TLS", False)
if CLOUDMGR_TLS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    # A load balancer's health probe may speak plain HTTP to the controller.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("CLOUDMGR_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("CLOUDMGR_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("CLOUDMGR_HSTS_PRELOAD", True)

# Addresses of reverse proxies whose X-Forwarded-For is believed (CIDRs allowed).
CLOUDMGR_TRUSTED_PROXIES = env_list("CLOUDMGR_TRUSTED_PROXIES", [])

# Identity
CLOUDMGR_TOKEN_LIFETIME_SECONDS = env_int("CLOUDMGR_TOKEN_LIFETIME_SECONDS", 3600)
CLOUDMGR_LOGIN_THROTTLE_WINDOW_SECONDS = env_int("CLOUDMGR_LOGIN_THROTTLE_WINDOW_SECONDS", 300)
# Failed logins in the window: per (account, address) pair, per address, and per account from
# anywhere (much higher: a whole account is locked only under a distributed guess).
CLOUDMGR_LOGIN_MAX_FAILURES_PER_PAIR = env_int("CLOUDMGR_LOGIN_MAX_FAILURES_PER_PAIR", 5)
CLOUDMGR_LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("CLOUDMGR_LOGIN_MAX_FAILURES_PER_ADDRESS", 20)
CLOUDMGR_LOGIN_MAX_FAILURES_PER_ACCOUNT = env_int("CLOUDMGR_LOGIN_MAX_FAILURES_PER_ACCOUNT", 100)

# API keys (signed requests). Secrets are sealed with a key derived from this passphrase
# (SECRET_KEY when empty); old passphrases, comma-separated, still open secrets they sealed.
CLOUDMGR_API_KEY_ENCRYPTION_KEY = env_str("CLOUDMGR_API_KEY_ENCRYPTION_KEY")
CLOUDMGR_API_KEY_ENCRYPTION_OLD_KEYS = env_list("CLOUDMGR_API_KEY_ENCRYPTION_OLD_KEYS", [])
CLOUDMGR_API_KEYS_MAX_PER_USER = env_int("CLOUDMGR_API_KEYS_MAX_PER_USER", 10)
CLOUDMGR_API_KEY_SIGNATURE_WINDOW_SECONDS = env_int("CLOUDMGR_API_KEY_SIGNATURE_WINDOW_SECONDS", 300)
# Where nonces of signed requests are remembered: a redis:// URL or "postgresql"
# (when empty: the broker if it is Redis, else PostgreSQL).
CLOUDMGR_API_KEY_NONCE_STORE = env_str("CLOUDMGR_API_KEY_NONCE_STORE")

# LDAP login (django-auth-ldap); docs/configuration.md explains each setting.
CLOUDMGR_LDAP_ENABLED = env_bool("CLOUDMGR_LDAP_ENABLED", False)
CLOUDMGR_LDAP_SERVER_URI = env_str("CLOUDMGR_LDAP_SERVER_URI", "ldap://127.0.0.1")
CLOUDMGR_LDAP_START_TLS = env_bool("CLOUDMGR_LDAP_START_TLS", False)
CLOUDMGR_LDAP_TIMEOUT_SECONDS = env_float("CLOUDMGR_LDAP_TIMEOUT_SECONDS", 5.0)
CLOUDMGR_LDAP_BIND_DN = env_str("CLOUDMGR_LDAP_BIND_DN")
# The bind password: this variable, or the first line of the file named by the _FILE one.
CLOUDMGR_LDAP_BIND_PASSWORD = env_str("CLOUDMGR_LDAP_BIND_PASSWORD")
CLOUDMGR_LDAP_BIND_PASSWORD_FILE = env_str("CLOUDMGR_LDAP_BIND_PASSWORD_FILE")
CLOUDMGR_LDAP_USER_DN_TEMPLATE = env_str("CLOUDMGR_LDAP_USER_DN_TEMPLATE")
CLOUDMGR_LDAP_USER_SEARCH_BASE = env_str("CLOUDMGR_LDAP_USER_SEARCH_BASE")
CLOUDMGR_LDAP_USER_SEARCH_FILTER = env_str("CLOUDMGR_LDAP_USER_SEARCH_FILTER", "(uid=%(user)s)")
CLOUDMGR_LDAP_FULL_NAME_ATTRIBUTE = env_str("CLOUDMGR_LDAP_FULL_NAME_ATTRIBUTE", "cn")
CLOUDMGR_LDAP_EMAIL_ATTRIBUTE = env_str("CLOUDMGR_LDAP_EMAIL_ATTRIBUTE", "mail")
CLOUDMGR_LDAP_GROUP_SEARCH_BASE = env_str("CLOUDMGR_LDAP_GROUP_SEARCH_BASE")
CLOUDMGR_LDAP_GROUP_SEARCH_FILTER = env_str("CLOUDMGR_LDAP_GROUP_SEARCH_FILTER", "(objectClass=*)")
CLOUDMGR_LDAP_GROUP_TYPE = env_str("CLOUDMGR_LDAP_GROUP_TYPE", "groupOfNames")
CLOUDMGR_LDAP_REQUIRE_GROUP = env_str("CLOUDMGR_LDAP_REQUIRE_GROUP")
CLOUDMGR_LDAP_DENY_GROUP = env_str("CLOUDMGR_LDAP_DENY_GROUP")
# Domain (id or name path) where directory users are created on their first login.
CLOUDMGR_LDAP_DOMAIN = env_str("CLOUDMGR_LDAP_DOMAIN", "ROOT")
# JSON list of {"group": DN, "role": name, "project": id} or {…, "domain": id or path}.
CLOUDMGR_LDAP_GROUP_ROLES = env_str("CLOUDMGR_LDAP_GROUP_ROLES", "[]")

# Audit
CLOUDMGR_AUDIT_RETENTION_DAYS = env_int("CLOUDMGR_AUDIT_RETENTION_DAYS", 365)

# Controller process
CLOUDMGR_LISTEN = env_str("CLOUDMGR_LISTEN", "127.0.0.1:8000")
CLOUDMGR_HTTP_THREADS = env_int("CLOUDMGR_HTTP_THREADS", 16)
# Requests of one controller that may wait for a job at once (a console log waiting for its host).
CLOUDMGR_JOB_WAITERS = env_int("CLOUDMGR_JOB_WAITERS", max(1, CLOUDMGR_HTTP_THREADS // 4))
# A request body that sends nothing for this long is cut, and so is one that, past that time,
# has averaged less than the minimum rate (a client trickling a byte every few seconds).
CLOUDMGR_HTTP_IDLE_TIMEOUT_SECONDS = env_float("CLOUDMGR_HTTP_IDLE_TIMEOUT_SECONDS", 10.0)
CLOUDMGR_HTTP_BODY_MIN_BYTES_PER_SECOND = env_int("CLOUDMGR_HTTP_BODY_MIN_BYTES_PER_SECOND", 1024)
CLOUDMGR_JOB_WORKERS = env_int("CLOUDMGR_JOB_WORKERS", 2)
CLOUDMGR_JOB_POLL_SECONDS = env_float("CLOUDMGR_JOB_POLL_SECONDS", 1.0)
CLOUDMGR_JOB_DEFAULT_DEADLINE_SECONDS = env_int("CLOUDMGR_JOB_DEFAULT_DEADLINE_SECONDS", 3600)
CLOUDMGR_PERIODIC_TICK_SECONDS = env_float("CLOUDMGR_PERIODIC_TICK_SECONDS", 5.0)
CLOUDMGR_SHUTDOWN_GRACE_SECONDS = env_float("CLOUDMGR_SHUTDOWN_GRACE_SECONDS", 20.0)
# Periods of the periodic work, in seconds.
CLOUDMGR_PERIODS = {
    "identity.purge_expired_tokens": env_int("CLOUDMGR_PERIOD_PURGE_TOKENS", 300),
    "identity.purge_login_failures": env_int("CLOUDMGR_PERIOD_PURGE_LOGIN_FAILURES", 300),
    "audit.purge_old_events": env_int("CLOUDMGR_PERIOD_PURGE_AUDIT", 3600),
    "jobs.sweep_overdue": env_int("CLOUDMGR_PERIOD_SWEEP_JOBS", 10),
    "infrastructure.mark_silent_hosts_down": env_int("CLOUDMGR_PERIOD_MARK_HOSTS_DOWN", 10),
    "infrastructure.refresh_host_limits": env_int("CLOUDMGR_PERIOD_REFRESH_HOST_LIMITS", 60),
    "infrastructure.redispatch_host_jobs": env_int("CLOUDMGR_PERIOD_REDISPATCH_JOBS", 10),
    "compute.audit_hosts": env_int("CLOUDMGR_PERIOD_AUDIT_HOSTS", 300),
    "compute.continue_drains": env_int("CLOUDMGR_PERIOD_CONTINUE_DRAINS", 10),
    "identity.purge_api_key_nonces": env_int("CLOUDMGR_PERIOD_PURGE_API_KEY_NONCES", 300),
    "identity.sync_directory_users": env_int("CLOUDMGR_PERIOD_LDAP_SYNC", 900),
    "images.kill_stalled_uploads": env_int("CLOUDMGR_PERIOD_KILL_STALLED_UPLOADS", 30),
    "images.purge_deleted": env_int("CLOUDMGR_PERIOD_PURGE_IMAGES", 300),
    "networks.audit_networks": env_int("CLOUDMGR_PERIOD_NETWORK_AUDIT", 600),
    "monitoring.rollup": env_int("CLOUDMGR_PERIOD_METRICS_ROLLUP", 60),
    "monitoring.retention": env_int("CLOUDMGR_PERIOD_METRICS_RETENTION", 600),
    "monitoring.alerts": env_int("CLOUDMGR_PERIOD_ALERTS", 30),
    "billing.rollup_usage": env_int("CLOUDMGR_PERIOD_BILLING_ROLLUP", 300),
}

# Images
CLOUDMGR_IMAGE_STORE_DIR = env_str("CLOUDMGR_IMAGE_STORE_DIR", str(BASE_DIR / "var" / "images"))
CLOUDMGR_IMAGE_DEFAULT_STORE = env_str("CLOUDMGR_IMAGE_DEFAULT_STORE", "file")
CLOUDMGR_IMAGE_MAX_VIRTUAL_SIZE_BYTES = env_int("CLOUDMGR_IMAGE_MAX_VIRTUAL_SIZE_BYTES", 2 * 1024**4)
# An upload (or import) that receives no data for this long is killed by the periodic sweep.
CLOUDMGR_IMAGE_UPLOAD_STALL_SECONDS = env_int("CLOUDMGR_IMAGE_UPLOAD_STALL_SECONDS", 300)
# How long a deleted image stays in pending_delete (recoverable) before it is purged.
CLOUDMGR_IMAGE_PENDING_DELETE_SECONDS = env_int("CLOUDMGR_IMAGE_PENDING_DELETE_SECONDS", 7 * 86400)
# Private, loopback and link-local addresses an import may still reach (CIDRs).
CLOUDMGR_IMAGE_IMPORT_ALLOWED_NETWORKS = env_list("CLOUDMGR_IMAGE_IMPORT_ALLOWED_NETWORKS", [])
CLOUDMGR_IMAGE_IMPORT_TIMEOUT_SECONDS = env_float("CLOUDMGR_IMAGE_IMPORT_TIMEOUT_SECONDS", 30.0)
CLOUDMGR_IMAGE_IMPORT_MAX_REDIRECTS = env_int("CLOUDMGR_IMAGE_IMPORT_MAX_REDIRECTS", 5)
CLOUDMGR_IMAGE_IMPORT_DEADLINE_SECONDS = env_int("CLOUDMGR_IMAGE_IMPORT_DEADLINE_SECONDS", 6 * 3600)
CLOUDMGR_IMAGE_IMPORT_CA_FILE = env_str("CLOUDMGR_IMAGE_IMPORT_CA_FILE") or None
# Limits of the `qemu-img info` run that double-checks qcow2, vmdk, vdi and vhd files.
CLOUDMGR_IMAGE_QEMU_IMG_CPU_SECONDS = env_int("CLOUDMGR_IMAGE_QEMU_IMG_CPU_SECONDS", 30)
CLOUDMGR_IMAGE_QEMU_IMG_ADDRESS_SPACE_BYTES = env_int("CLOUDMGR_IMAGE_QEMU_IMG_ADDRESS_SPACE_BYTES", 1024**3)

# Hosts and capacity. A host's limit is (total - reserve) * ratio; a host may override each ratio.
CLOUDMGR_RAM_ALLOCATION_RATIO = env_float("CLOUDMGR_RAM_ALLOCATION_RATIO", 1.5)
CLOUDMGR_CPU_ALLOCATION_RATIO = env_float("CLOUDMGR_CPU_ALLOCATION_RATIO", 16.0)
CLOUDMGR_DISK_ALLOCATION_RATIO = env_float("CLOUDMGR_DISK_ALLOCATION_RATIO", 1.0)
# The reserve a new host starts with (each host's own can be changed later).
CLOUDMGR_RESERVED_HOST_MEMORY_MB = env_int("CLOUDMGR_RESERVED_HOST_MEMORY_MB", 512)
CLOUDMGR_RESERVED_HOST_DISK_MB = env_int("CLOUDMGR_RESERVED_HOST_DISK_MB", 0)
CLOUDMGR_HOST_DOWN_AFTER_SECONDS = env_int("CLOUDMGR_HOST_DOWN_AFTER_SECONDS", 60)
CLOUDMGR_ENROLLMENT_TOKEN_LIFETIME_SECONDS = env_int("CLOUDMGR_ENROLLMENT_TOKEN_LIFETIME_SECONDS", 86400)
# The base URL hosts reach the controller's agent endpoint at, for the commands the portal shows when a
# host is added (empty: the address the admin's browser used).
CLOUDMGR_URL_FOR_HOSTS = env_str("CLOUDMGR_URL_FOR_HOSTS")
# Bad enrollment tokens from one address, in the login throttle's window, before it is refused unaudited.
CLOUDMGR_ENROLL_MAX_FAILURES_PER_ADDRESS = env_int("CLOUDMGR_ENROLL_MAX_FAILURES_PER_ADDRESS", 10)
# The Ed25519 key that signs every task sent to an agent: PEM text, or a file `createsigningkey` writes.
CLOUDMGR_TASK_SIGNING_KEY = env_str("CLOUDMGR_TASK_SIGNING_KEY")
CLOUDMGR_TASK_SIGNING_KEY_FILE = env_str(
    "CLOUDMGR_TASK_SIGNING_KEY_FILE", str(BASE_DIR / "var" / "task_signing_key.pem")
)
# Public keys (base64) of earlier signing keys that enrolling agents should still trust (rotation).
CLOUDMGR_TASK_SIGNING_PREVIOUS_PUBLIC_KEYS = env_list("CLOUDMGR_TASK_SIGNING_PREVIOUS_PUBLIC_KEYS", [])
# The CA that gives hosts their TLS certificates at enrollment (moves between hosts): its private key
# (PEM text, or the file `createhostca` writes, 0600) and its certificate.
CLOUDMGR_HOST_CA_KEY = env_str("CLOUDMGR_HOST_CA_KEY")
CLOUDMGR_HOST_CA_KEY_FILE = env_str("CLOUDMGR_HOST_CA_KEY_FILE", str(BASE_DIR / "var" / "host_ca_key.pem"))
CLOUDMGR_HOST_CA_CERT = env_str("CLOUDMGR_HOST_CA_CERT")
CLOUDMGR_HOST_CA_CERT_FILE = env_str("CLOUDMGR_HOST_CA_CERT_FILE", str(BASE_DIR / "var" / "host_ca.pem"))
CLOUDMGR_HOST_CERT_LIFETIME_DAYS = env_int("CLOUDMGR_HOST_CERT_LIFETIME_DAYS", 365)

# Scheduler: filters, then weighers, by registry name (apps/compute/scheduler) or dotted path.
CLOUDMGR_SCHEDULER_FILTERS = env_list(
    "CLOUDMGR_SCHEDULER_FILTERS",
    [
        "compute",
        "availability_zone",
        "host_tags",
        "isolated_hosts",
        "image_properties",
        "same_host",
        "different_host",
        "affinity",
        "anti_affinity",
        "cidr_affinity",
        "ram",
        "cores",
        "disk",
        "physical_networks",
    ],
)
CLOUDMGR_SCHEDULER_WEIGHERS = env_list("CLOUDMGR_SCHEDULER_WEIGHERS", ["ram"])
# Positive spreads instances over hosts (most free RAM first); negative fills one host first.
CLOUDMGR_SCHEDULER_RAM_WEIGHT_MULTIPLIER = env_float("CLOUDMGR_SCHEDULER_RAM_WEIGHT_MULTIPLIER", 1.0)

# Instances: how long a host has for each job before the sweeper fails it.
CLOUDMGR_SPAWN_DEADLINE_SECONDS = env_int("CLOUDMGR_SPAWN_DEADLINE_SECONDS", 1200)
CLOUDMGR_INSTANCE_ACTION_DEADLINE_SECONDS = env_int("CLOUDMGR_INSTANCE_ACTION_DEADLINE_SECONDS", 300)
# A stop asks the guest to shut down, and powers it off when it has not after this long.
CLOUDMGR_INSTANCE_STOP_TIMEOUT_SECONDS = env_int("CLOUDMGR_INSTANCE_STOP_TIMEOUT_SECONDS", 60)
# A host job not handed to the broker this long after its commit is sent again by the periodic dispatcher.
CLOUDMGR_REDISPATCH_AFTER_SECONDS = env_int("CLOUDMGR_REDISPATCH_AFTER_SECONDS", 10)
# The kernel command line of instances booted from a kernel image (aki) and ramdisk (ari).
CLOUDMGR_KERNEL_CMDLINE = env_str("CLOUDMGR_KERNEL_CMDLINE", "console=ttyS0")
# How long a console-log request waits for the host's answer before it returns the job instead.
CLOUDMGR_CONSOLE_LOG_WAIT_SECONDS = env_float("CLOUDMGR_CONSOLE_LOG_WAIT_SECONDS", 10.0)

# Moves between hosts: each move is one job with one deadline for all its steps.
CLOUDMGR_MIGRATION_DEADLINE_SECONDS = env_int("CLOUDMGR_MIGRATION_DEADLINE_SECONDS", 3600)
CLOUDMGR_LIVE_MIGRATION_DEADLINE_SECONDS = env_int("CLOUDMGR_LIVE_MIGRATION_DEADLINE_SECONDS", 1800)
# Undoing a failed move waits for its destination to confirm it runs nothing of it (a host that is
# down may still run the guest), at most this long; fencing the destination ends the wait at once.
CLOUDMGR_MOVE_UNDO_DEADLINE_SECONDS = env_int("CLOUDMGR_MOVE_UNDO_DEADLINE_SECONDS", 86400)
# A disk transfer ticket is good this long after it is issued (and never past its move's deadline).
CLOUDMGR_TRANSFER_TICKET_SECONDS = env_int("CLOUDMGR_TRANSFER_TICKET_SECONDS", 600)
CLOUDMGR_LIVE_MIGRATION_MAX_DOWNTIME_MS = env_int("CLOUDMGR_LIVE_MIGRATION_MAX_DOWNTIME_MS", 500)
CLOUDMGR_LIVE_MIGRATION_BANDWIDTH_MIB_S = env_int("CLOUDMGR_LIVE_MIGRATION_BANDWIDTH_MIB_S", 0)
# A host in maintenance is drained this many moves at a time; a move that failed is tried again later.
CLOUDMGR_MAINTENANCE_CONCURRENT_MOVES = env_int("CLOUDMGR_MAINTENANCE_CONCURRENT_MOVES", 4)
CLOUDMGR_MAINTENANCE_RETRY_SECONDS = env_int("CLOUDMGR_MAINTENANCE_RETRY_SECONDS", 60)
# Networks: how long a released address waits before IPAM gives it again (stale ARP caches,
# DNS records and firewall rules elsewhere still point at it), the first three bytes of every
# port's MAC, and the most addresses one IPv4 subnet's allocation pools may hold (each is a row).
CLOUDMGR_IP_HOLD_SECONDS = env_int("CLOUDMGR_IP_HOLD_SECONDS", 300)
CLOUDMGR_MAC_PREFIX = env_str("CLOUDMGR_MAC_PREFIX", "fa:16:3e")
CLOUDMGR_SUBNET_MAX_POOL_ADDRESSES = env_int("CLOUDMGR_SUBNET_MAX_POOL_ADDRESSES", 65536)
# How long a host has to apply a network change (sync) or compare and repair its network (audit), and
# to hot-plug or unplug an instance's NIC.
CLOUDMGR_NETWORK_SYNC_DEADLINE_SECONDS = env_int("CLOUDMGR_NETWORK_SYNC_DEADLINE_SECONDS", 120)
CLOUDMGR_NETWORK_AUDIT_DEADLINE_SECONDS = env_int("CLOUDMGR_NETWORK_AUDIT_DEADLINE_SECONDS", 300)
CLOUDMGR_INTERFACE_DEADLINE_SECONDS = env_int("CLOUDMGR_INTERFACE_DEADLINE_SECONDS", 120)
# Monitoring. Samples are stored one row per subject per interval (the agents' sampling period
# should match), kept raw, then as 5-minute and hourly averages, each for its retention.
CLOUDMGR_METRICS_INTERVAL_SECONDS = env_int("CLOUDMGR_METRICS_INTERVAL_SECONDS", 60)
CLOUDMGR_METRICS_RAW_RETENTION_SECONDS = env_int("CLOUDMGR_METRICS_RAW_RETENTION_SECONDS", 6 * 3600)
CLOUDMGR_METRICS_5M_RETENTION_SECONDS = env_int("CLOUDMGR_METRICS_5M_RETENTION_SECONDS", 3 * 86400)
CLOUDMGR_METRICS_1H_RETENTION_SECONDS = env_int("CLOUDMGR_METRICS_1H_RETENTION_SECONDS", 400 * 86400)
# When set (http://prometheus:9090), charts read the series from Prometheus instead.
CLOUDMGR_PROMETHEUS_URL = env_str("CLOUDMGR_PROMETHEUS_URL")
CLOUDMGR_PROMETHEUS_TIMEOUT_SECONDS = env_float("CLOUDMGR_PROMETHEUS_TIMEOUT_SECONDS", 10.0)
# Prometheus's scrape interval of the agents: a rate is read over at least four of them.
CLOUDMGR_PROMETHEUS_SCRAPE_INTERVAL_SECONDS = env_int("CLOUDMGR_PROMETHEUS_SCRAPE_INTERVAL_SECONDS", 15)
# Alerts, and who gets them by mail (empty: the users with an address who may read them on the platform).
CLOUDMGR_ALERT_HOST_DISK_PERCENT = env_float("CLOUDMGR_ALERT_HOST_DISK_PERCENT", 90.0)
CLOUDMGR_ALERT_JOB_FAILURE_PERCENT = env_float("CLOUDMGR_ALERT_JOB_FAILURE_PERCENT", 50.0)
CLOUDMGR_ALERT_JOB_FAILURE_MIN_JOBS = env_int("CLOUDMGR_ALERT_JOB_FAILURE_MIN_JOBS", 10)
CLOUDMGR_ALERT_JOB_FAILURE_WINDOW_SECONDS = env_int("CLOUDMGR_ALERT_JOB_FAILURE_WINDOW_SECONDS", 900)
CLOUDMGR_ALERT_EMAILS = env_list("CLOUDMGR_ALERT_EMAILS", [])

# Billing (docs/billing.md): the period invoices cover ("month", "week" or "day", in UTC), how
# long after a period's end it may be closed, and how many hours one rollup transaction covers.
CLOUDMGR_BILLING_PERIOD = env_str("CLOUDMGR_BILLING_PERIOD", "month")
if CLOUDMGR_BILLING_PERIOD not in ("month", "week", "day"):
    raise ImproperlyConfigured("CLOUDMGR_BILLING_PERIOD must be month, week or day")
CLOUDMGR_BILLING_CLOSE_AFTER_SECONDS = env_int("CLOUDMGR_BILLING_CLOSE_AFTER_SECONDS", 3600)
CLOUDMGR_BILLING_ROLLUP_CHUNK_HOURS = env_int("CLOUDMGR_BILLING_ROLLUP_CHUNK_HOURS", 24)

# Email (alerts, budget notifications): Django's email backend, SMTP by default.
EMAIL_BACKEND = env_str("CLOUDMGR_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("CLOUDMGR_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("CLOUDMGR_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("CLOUDMGR_EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("CLOUDMGR_EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("CLOUDMGR_EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_float("CLOUDMGR_EMAIL_TIMEOUT_SECONDS", 10.0)
# Where the file backend (django.core.mail.backends.filebased.EmailBackend) writes messages.
EMAIL_FILE_PATH = env_str("CLOUDMGR_EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = env_str("CLOUDMGR_EMAIL_FROM", "cloudmgr@localhost")

# Celery: the wire to the host agents.
CELERY_BROKER_URL = env_str("CLOUDMGR_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.identity.api.authentication.TokenAuthentication",
        "apps.identity.api.apikey_authentication.ApiKeyAuthentication",
        "apps.identity.api.authentication.PortalSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["apps.core.api.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exceptions.error_envelope_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "cloudmgr API",
    "DESCRIPTION": "The REST API of the cloudmgr IaaS controller.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["apps.core.api.schema.only_the_public_api"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.networks.api.schema.infrastructure_facts_optional",
    ],
    # Choices that share a field name across models (hosts' and jobs' `state`, invoices' `kind`)
    # each get their own enum name.
    "ENUM_NAME_OVERRIDES": {
        "HostStateEnum": "apps.infrastructure.models.Host.STATES",
        "JobStateEnum": "apps.jobs.models.Job.STATES",
        "InvoiceKindEnum": "apps.billing.models.Invoice.KINDS",
        "InvoiceStateEnum": "apps.billing.models.Invoice.STATES",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("CLOUDMGR_LOG_LEVEL", "INFO")},
}
