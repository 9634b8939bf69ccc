#!/usr/bin/env bash
# Makes sure redis-server and redis-cli exist for the tests: installs them from the
# distribution's packages when running as root on Debian/Ubuntu, or says how to.
set -euo pipefail
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
  exit 0
fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "installing redis-server and redis-tools for the tests" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null
  exit 0
fi
echo "the tests need redis-server and redis-cli (Redis 7):" >&2
echo "  Debian/Ubuntu: sudo apt-get install -y redis-server redis-tools" >&2
echo "  macOS:         brew install redis" >&2
exit 1
