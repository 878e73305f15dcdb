# syntax=docker/dockerfile:1
# Canh collector image (external-broker mode behind Mosquitto; see deploy/docker-compose.yml).
#   docker build -t canh-collector .
#   docker run -v canh-data:/data -p 127.0.0.1:8080:8080 canh-collector
# Configuration: CANH_COLLECTOR__… environment variables (README.md, "Configuration").

# --- build: full toolchain, dev dependencies, TypeScript + agent bundle -------------
FROM node:20-bookworm-slim AS build
# better-sqlite3 downloads a prebuilt binary when one matches; otherwise node-gyp
# compiles it, which needs python3, make and a C++ compiler.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY agent ./agent
COPY collector ./collector
COPY common ./common
COPY contract ./contract
COPY cli ./cli
COPY deploy ./deploy
# The agent packages the collector serves at /install (issue 15): the Linux one from the
# bundle; the Windows one with node.exe and WinSW from the npm registry (npm pack, pinned).
RUN npm run build \
 && node scripts/build-windows-agent.mjs \
 && npm prune --omit=dev --no-audit --no-fund

# --- runtime: production dependencies and dist/ only, non-root ----------------------
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    CANH_COLLECTOR__DATA_DIR=/data
# `canh` (10001) runs the collector. `mosquitto` (1883, the uid/gid of the official
# eclipse-mosquitto image's user) exists only so that
# `canh credentials export-mosquitto --owner mosquitto`, run as root in this image,
# gives the passwd/acl files the owner the broker container reads them as.
RUN groupadd --system --gid 10001 canh \
 && useradd --system --uid 10001 --gid canh --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin canh \
 && groupadd --system --gid 1883 mosquitto \
 && useradd --system --uid 1883 --gid mosquitto --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin mosquitto \
 && mkdir -p /data /mosquitto-auth \
 && chown canh:canh /data \
 && chmod 0700 /data
WORKDIR /app
# package.json is needed at run time: it marks dist/*.js as ES modules and holds the version.
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
USER canh
VOLUME /data
EXPOSE 1883 8080
# No curl/wget in the slim image: Node's fetch does the probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# glibc's malloc thresholds kept fixed, and --max-semi-space-size=8: the collector's
# environment and V8 flags (collector/health/heap-growth.ts, README "health").
ENV MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072
CMD ["node", "--max-semi-space-size=8", "dist/cli/canh.js", "collector"]
