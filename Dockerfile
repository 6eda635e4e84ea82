# syntax=docker/dockerfile:1
#
# chathub container image.
#   docker build -t chathub .
#   docker run --rm -e TELEGRAM_TOKEN=... -p 8080:8080 chathub
# Without DATABASE_URL / REDIS_URL the binary falls back to its embedded
# SQLite + in-memory Redis, keeping files under /data (mount a volume there).
# docker-compose.yml runs it with PostgreSQL and Redis.

# ---- build: a static, stripped binary --------------------------------------
FROM golang:1.26 AS build
WORKDIR /src

# Dependencies first so they are cached independently of source edits.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/chathub ./cmd/chathub \
 && mkdir -p /out/data

# ---- runtime: no shell, no package manager, non-root (uid 65532) -------------
FROM gcr.io/distroless/static-debian12:nonroot

COPY --from=build /out/chathub /app/chathub
COPY scenarios/ /app/scenarios/
# Writable working directory for the embedded defaults (SQLite file etc.).
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data

ENV SCENARIOS_DIR=/app/scenarios \
    HTTP_ADDR=:8080

USER nonroot:nonroot
EXPOSE 8080

ENTRYPOINT ["/app/chathub"]
CMD ["run"]
