#!/usr/bin/env bash
# npm run test:container: builds the container image with buildah and smoke-tests it.
# Installs buildah and debootstrap when missing (Debian, as root), builds the base image once
# (kept in buildah's storage for later runs), then runs test/container.test.ts.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v buildah >/dev/null || missing+=(buildah)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "test-container: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

IMGFLEET_BASE_IMAGE="$(scripts/build-base-image.sh)"
echo "test-container: base image ready after ${SECONDS} s" >&2
export IMGFLEET_BASE_IMAGE IMGFLEET_TEST_CONTAINER=1
npm run build --silent
node --test --test-timeout=1800000 dist/test/container.test.js
