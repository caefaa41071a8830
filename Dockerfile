# secmqtt container image: one self-contained binary (deno compile) on a slim Debian, run as non-root.
#
#   docker build -t secmqtt:local .
#   docker run --rm secmqtt:local --help
#
# The compose files (docker-compose.insecure.yml, docker-compose.secure.yml) build this image.
#
# NOT VERIFIED where this file was written: that machine had no Docker engine, so neither stage was
# ever built or run. What was checked there: the same commands (npm install of the pinned Deno,
# `deno install --frozen`) outside Docker. `deno compile` downloads its runtime (denort) from Deno's
# servers; if your build host cannot reach them, put a denort binary of the pinned version into the
# build context and pass its path: docker build --build-arg DENORT_BIN=/src/denort -t secmqtt:local .

# ---- build stage: pinned Deno from npm, dependencies from deno.lock, compile ----
FROM node:20-bookworm-slim AS build
WORKDIR /src

# Deno at the version pinned in .deno-version, installed from the npm registry (as scripts/ensure-deno.sh
# does on a developer machine).
COPY .deno-version ./
RUN npm install --no-audit --no-fund --prefix /opt/deno "deno@$(tr -d '[:space:]' < .deno-version)" \
 && ln -s /opt/deno/node_modules/.bin/deno /usr/local/bin/deno \
 && deno --version

# Dependencies first, so source edits do not refetch them. --frozen fails if deno.lock is stale.
COPY deno.json deno.lock ./
RUN deno install --frozen

# Source: only what main.ts imports. A new top-level source directory must be added here (the compile
# below fails loudly on a missing module). Copying an explicit list also keeps keys/, out/, .git and
# local tool caches out of the image.
COPY main.ts ./
COPY auth/ auth/
COPY cli/ cli/
COPY core/ core/
COPY crypto/ crypto/
COPY log/ log/
COPY metrics/ metrics/
COPY roles/ roles/
COPY store/ store/
COPY transport/ transport/

# DENORT_BIN: optional path (inside the build context, e.g. /src/denort after a COPY) of a local
# denort binary, for builds that cannot download it. Empty means "let deno compile download it".
ARG DENORT_BIN=
RUN if [ -z "${DENORT_BIN}" ]; then unset DENORT_BIN; fi \
 && deno task compile \
 && ./dist/secmqtt --version

# ---- runtime stage: the binary and nothing else ----
FROM debian:bookworm-slim AS runtime

# A fixed non-root uid/gid; the compose files may run the container as your own uid instead
# (SECMQTT_UID/SECMQTT_GID) so that files in bind-mounted ./keys and ./out stay yours.
RUN groupadd --system --gid 10001 secmqtt \
 && useradd --system --uid 10001 --gid secmqtt --home-dir /home/secmqtt --create-home --shell /usr/sbin/nologin secmqtt \
 && mkdir -p /out /keys /state \
 && chown secmqtt:secmqtt /out /keys /state

COPY --from=build /src/dist/secmqtt /usr/local/bin/secmqtt

USER secmqtt:secmqtt
WORKDIR /home/secmqtt
ENTRYPOINT ["/usr/local/bin/secmqtt"]
CMD ["--help"]
