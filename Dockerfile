# imgfleet: one image for `serve`, `worker` and batches (`run`, `process`, …), chosen by its command.
#
#   docker build -t imgfleet:0.1.0 .
#   docker run -p 8080:8080 -e IMGFLEET_TOKEN=… imgfleet:0.1.0                     # the API and the page
#   docker run -e IMGFLEET_REDIS=redis://redis:6379 imgfleet:0.1.0 worker          # a worker
#   docker run -v "$PWD:/data" imgfleet:0.1.0 run /data/in -o /data/out -p 'resize:512'
#
# BASE_IMAGE is any image laid out as the official node:20-bookworm-slim (scripts/build-base-image.sh
# builds one where no registry is reachable). Behind a proxy that re-signs TLS, hand npm its CA
# as a build secret (not kept in the image): --secret id=ca-certificates,src=/etc/ssl/certs/ca-certificates.crt
ARG BASE_IMAGE=node:20-bookworm-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /src
# Dependencies first, so this layer is reused while the lock file stays the same.
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=ca-certificates \
  if [ -f /run/secrets/ca-certificates ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca-certificates; fi \
  && npm ci --ignore-scripts --no-audit --no-fund \
  && npm rebuild --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/bundle.mjs ./scripts/
COPY src ./src
# The prune keeps typescript, an optional peer of a dependency (valibot); nothing runs it.
RUN npm run build \
  && npm prune --omit=dev --no-audit --no-fund \
  && rm -rf node_modules/typescript node_modules/@typescript \
  && find node_modules -mindepth 1 -maxdepth 1 -type d -empty -delete

FROM ${BASE_IMAGE}
# tini is PID 1: it hands SIGTERM to imgfleet (which drains) and reaps what exits.
# jemalloc keeps a long-running worker's memory flat where glibc's per-thread arenas fragment
# (measured: README, Deploy, "Which allocator"). libwebp7 reads small WebPs and writes
# WebPs without libvips' set-up (README, "Lanes").
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tini libjemalloc2 libwebp7 \
  && ln -s "$(ls /usr/lib/*-linux-gnu/libjemalloc.so.2)" /usr/local/lib/libjemalloc.so.2 \
  && rm -rf /var/lib/apt/lists/*
# A worker rewrites IMGFLEET_ALIVE_FILE while alive; `imgfleet health --worker` reads it.
ENV NODE_ENV=production \
    LD_PRELOAD=/usr/local/lib/libjemalloc.so.2 \
    IMGFLEET_ALIVE_FILE=/tmp/imgfleet-worker-alive.json
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/bundle ./dist/bundle
COPY package.json ./
COPY bin ./bin
COPY assets ./assets
COPY src/server/ui ./src/server/ui
RUN ln -s /app/bin/imgfleet.js /usr/local/bin/imgfleet && imgfleet --version
# The files stay root's: the process runs as `node` (uid 1000) and cannot change them.
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=6s --start-period=20s --retries=3 CMD ["imgfleet", "health", "--timeout", "5"]
ENTRYPOINT ["/usr/bin/tini", "--", "imgfleet"]
CMD ["serve", "--host", "0.0.0.0"]
