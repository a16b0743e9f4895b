#!/usr/bin/env bash
# Installs the Telegram Bot API emulator of the end-to-end tests (npm package
# telegram-test-api, pinned in tests/e2e/emulator/package-lock.json) with `npm ci`.
# Idempotent: does nothing when node_modules matches the lock file already.
set -euo pipefail
cd "$(dirname "$0")/../tests/e2e/emulator"

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "install-emulator: '$tool' not found; the end-to-end tests need Node.js >= 18 with npm" >&2
    exit 1
  fi
done

stamp=node_modules/.regiotwin-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
  && [ -f node_modules/telegram-test-api/package.json ]; then
  exit 0
fi

echo "install-emulator: npm ci in $(pwd)" >&2
npm ci --no-audit --no-fund --loglevel=error >&2
echo "$want" > "$stamp"
