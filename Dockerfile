# The MDR service as a container image; docker-compose.yml runs it next to PostgreSQL 15.
#
#   docker build -t mdr:local .
#   docker run --rm -e MDR_DATABASE_URL=postgres://user:password@host:5432/mdr -p 8080:8080 mdr:local
#
# Not built in this project's CI (no Docker engine there); ops/check-compose.py checks this file's shape.
# SWIFT_VERSION must be at least the swift-tools-version in Package.swift.
ARG SWIFT_VERSION=6.3

# ---- build: the release binary and its resource bundles (migrations, openapi.yaml, report templates)
FROM swift:${SWIFT_VERSION}-jammy AS build
WORKDIR /src
# Dependencies first, so that a change in Sources/ reuses this layer. (Package.resolved is optional.)
COPY Package.swift Package.resolved* ./
RUN swift package resolve
COPY . .
RUN swift build -c release --product mdr \
    && bin="$(swift build -c release --show-bin-path)" \
    && mkdir /staging \
    && cp "$bin/mdr" /staging/ \
    && find -L "$bin" -maxdepth 1 -name '*.resources' -exec cp -R {} /staging/ \;

# ---- runtime: the Swift runtime libraries, the binary, and its bundles next to it (where Bundle.module looks)
FROM swift:${SWIFT_VERSION}-jammy-slim
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends ca-certificates curl tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --user-group --home-dir /app --shell /usr/sbin/nologin mdr
WORKDIR /app
COPY --from=build /staging/ /app/
ENV PATH=/app:$PATH \
    MDR_HOST=0.0.0.0 \
    MDR_PORT=8080
USER mdr
EXPOSE 8080
CMD ["mdr", "serve"]
