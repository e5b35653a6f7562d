# syntax=docker/dockerfile:1
# One image for every Trellis process (control plane, proxy, dashboard, demo apps, load
# generator, bootstrap), built in stages: dependencies and the bundles in a full build stage, then a
# slim Node 24 LTS runtime with production dependencies only, running as the unprivileged
# `node` user. The command picks the program (see docker-compose.yml).

# ---- manifests: the workspace's package files, what both installs below start from --------
FROM node:24-bookworm-slim AS manifests
WORKDIR /src
COPY package.json package-lock.json ./
COPY packages/config/package.json packages/config/
COPY packages/proto/package.json packages/proto/
COPY apps/control/package.json apps/control/
COPY apps/proxy/package.json apps/proxy/
COPY apps/demo/package.json apps/demo/
COPY apps/web/package.json apps/web/

# ---- build: install everything, generate the Prisma client, bundle each app -------------
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY --from=manifests /src ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run prisma:generate \
 && node scripts/build-app.mjs control \
 && node scripts/build-app.mjs proxy \
 && node scripts/build-app.mjs demo \
 && NEXT_TELEMETRY_DISABLED=1 npm run build -w apps/web \
 && rm -rf apps/web/.next/cache

# ---- deps: production dependencies only (the bundles import them from node_modules) -----
FROM node:24-bookworm-slim AS deps
WORKDIR /src
COPY --from=manifests /src ./
RUN npm ci --omit=dev --no-audit --no-fund

# ---- runtime -------------------------------------------------------------------------
FROM node:24-bookworm-slim AS runtime
# First, so source changes do not re-run it: jemalloc for the control plane (apps/control/src/allocator.ts: glibc keeps what a push to
# thousands of proxies frees resident), linked at one path whatever the architecture.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libjemalloc2 \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s "$(find /usr/lib -name libjemalloc.so.2 | head -n 1)" /usr/local/lib/libjemalloc.so.2 \
 && test -e /usr/local/lib/libjemalloc.so.2
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps --chown=node:node /src/node_modules ./node_modules
COPY --from=build --chown=node:node /src/package.json ./package.json
# The control plane applies its SQL migrations at start.
COPY --from=build --chown=node:node /src/prisma ./prisma
COPY --from=build --chown=node:node /src/apps/control/dist ./apps/control/dist
COPY --from=build --chown=node:node /src/apps/control/package.json ./apps/control/package.json
COPY --from=build --chown=node:node /src/apps/proxy/dist ./apps/proxy/dist
COPY --from=build --chown=node:node /src/apps/proxy/package.json ./apps/proxy/package.json
COPY --from=build --chown=node:node /src/apps/demo/dist ./apps/demo/dist
COPY --from=build --chown=node:node /src/apps/demo/proto ./apps/demo/proto
COPY --from=build --chown=node:node /src/apps/demo/package.json ./apps/demo/package.json
# The dashboard: Next's production build, served by `next start` from apps/web.
COPY --from=build --chown=node:node /src/apps/web/.next ./apps/web/.next
COPY --from=build --chown=node:node /src/apps/web/package.json /src/apps/web/next.config.mjs ./apps/web/
RUN mkdir -p /data /bootstrap && chown node:node /data /bootstrap
USER node
# The proxy's admin port answers /ready; the control plane's API answers /readyz.
# --max-semi-space-size=8: the control plane's young generation (apps/control/src/heap.ts);
# `env` preloads jemalloc for this command only (allocator.ts), not for every process of the image.
CMD ["env", "LD_PRELOAD=/usr/local/lib/libjemalloc.so.2", "MALLOC_CONF=narenas:1,dirty_decay_ms:0,muzzy_decay_ms:0", "node", "--max-semi-space-size=8", "apps/control/dist/main.mjs"]
