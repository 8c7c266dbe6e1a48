#!/usr/bin/env bash
# Every test of the workspace. The NATS bridge's tests need a real nats-server: it is installed
# here where it can be (Debian's package, as root); elsewhere those tests say they were skipped.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v nats-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing nats-server (Debian package) for the event-nats tests"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null
  else
    echo "nats-server is not installed and cannot be installed here: the event-nats tests will be skipped"
  fi
fi

cargo test --workspace --all-targets
cargo test --workspace --doc
