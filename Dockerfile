# Drumbeat as a container image: one image for every role.
#
#   docker build -t drumbeat .
#   docker run --rm -p 2525:8025 -v drumbeat-data:/data drumbeat           # all in one (serve)
#   docker run --rm drumbeat worker --threads 2                            # one role
#
# docker-compose.yml runs the roles side by side on PostgreSQL and Redis; settings
# are DRUMBEAT_* environment variables (README, "Configuration").

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    DRUMBEAT_SMTPD_HOST=0.0.0.0 \
    DRUMBEAT_SMTPD_PORT=8025

RUN groupadd --system --gid 10001 drumbeat \
    && useradd --system --uid 10001 --gid drumbeat --home-dir /data --shell /usr/sbin/nologin drumbeat \
    && mkdir -p /data \
    && chown drumbeat:drumbeat /data

WORKDIR /src
# Only what the package is built from (pyproject.toml lists the packages); the
# runtime dependencies only, no dev or bench extras.
COPY pyproject.toml README.md ./
COPY config ./config
COPY drumbeat ./drumbeat
COPY models ./models
COPY mail ./mail
COPY workers ./workers
COPY templates ./templates
RUN pip install . && rm -rf /src/build /src/*.egg-info

# The example company, to try the image: drumbeat import people /src/examples/northwind/people.csv
COPY examples ./examples

# The embedded default keeps its SQLite file and Maildir under /data/var (mount a volume).
WORKDIR /data
USER drumbeat

EXPOSE 8025

# Healthy when the SMTP intake answers with its 220 greeting (smtpd and serve; the other
# roles have no port, and docker-compose.yml turns this check off for them).
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, smtplib; smtplib.SMTP('127.0.0.1', int(os.environ.get('DRUMBEAT_SMTPD_PORT', '8025')), timeout=5).quit()"]

ENTRYPOINT ["drumbeat"]
CMD ["serve"]
