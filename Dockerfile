# hashbank's service image: the server and PostgreSQL extras in a virtualenv, run by
# an unprivileged user, SQLite/index snapshots under /data unless HASHBANK_DATABASE_URL
# names PostgreSQL (see compose.yaml). Built and smoke-tested by scripts/container-smoke.
#
# BASE_IMAGE: any Debian-like image with python3 >= 3.11 and its venv module; both
# stages use it, so the virtualenv's interpreter path is the same in each.
ARG BASE_IMAGE=docker.io/library/python:3.11-slim

FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# pdqhash publishes no wheels: pip compiles it, with g++ (this stage only).
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends g++ \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/hashbank && /opt/hashbank/bin/pip install --quiet --upgrade pip
# Dependencies first, from pyproject.toml alone, so that editing the code reuses this layer.
COPY pyproject.toml README.md /src/
RUN cd /src && /opt/hashbank/bin/python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"] + p["optional-dependencies"]["server"] + p["optional-dependencies"]["postgres"]))' > /tmp/requirements.txt \
    && /opt/hashbank/bin/pip install --quiet -r /tmp/requirements.txt
COPY hashing /src/hashing
COPY index /src/index
COPY service /src/service
RUN /opt/hashbank/bin/pip install --quiet --no-deps /src && rm -rf /src

FROM ${BASE_IMAGE}
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home hashbank \
    && mkdir /data && chown hashbank:hashbank /data
COPY --from=build /opt/hashbank /opt/hashbank
ENV PATH=/opt/hashbank/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HASHBANK_DATA_DIR=/data \
    NUMBA_CACHE_DIR=/data/.numba-cache
USER hashbank
WORKDIR /data
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# As scripts/serve runs it: client addresses from HASHBANK_TRUSTED_PROXIES alone
# (--no-proxy-headers), a deadline on request headers (--http ...HeaderLimitsProtocol).
# Workers: WEB_CONCURRENCY (uvicorn's own variable), 1 by default.
CMD ["uvicorn", "--factory", "service.app:create_app", "--host", "0.0.0.0", "--port", "8000", \
     "--no-proxy-headers", "--http", "service.api.header_limits:HeaderLimitsProtocol", "--no-server-header"]
