#!/usr/bin/env bash
# CPU-profiles the edge and the message service (node --cpu-prof) while the rotating-send
# scenario runs against the stack, then prints each profile's top self-time functions.
# Profiles are kept in bench/results/profile-<time>/{edge,message}/ for DevTools.
#
#   bench/profile.sh                  # BENCH_DURATION (10 s) of load after a warm-up
#   PROFILE_TOP=40 bench/profile.sh   # more lines
#   PROFILE_SCENARIO=pull bench/profile.sh
set -euo pipefail
cd "$(dirname "$0")/.."

out="bench/results/profile-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out/edge" "$out/message"
# The stack as deployed plus --cpu-prof; paths are relative to the repository root, the
# services' working directory. Profiles are written when the services exit on SIGTERM.
variant=$(cat <<JSON
[{"name": "stack-profiled",
  "note": "the stack (tracing off) under node --cpu-prof, which slows it down",
  "edgeNodeArgs": ["--cpu-prof", "--cpu-prof-dir=$out/edge"],
  "messageNodeArgs": ["--cpu-prof", "--cpu-prof-dir=$out/message"]}]
JSON
)

BENCH_SCENARIOS="${PROFILE_SCENARIO:-send-rotating}" \
BENCH_VARIANTS=stack-profiled \
BENCH_RUNS=1 \
BENCH_DURATION="${BENCH_DURATION:-10}" \
BENCH_EXTRA_VARIANTS="$variant" \
  npx tsx bench/run.ts

for service in edge message; do
  shopt -s nullglob
  profiles=("$out/$service"/*.cpuprofile)
  if [[ ${#profiles[@]} -eq 0 ]]; then
    echo "no profile was written for the $service (did it exit cleanly?)" >&2
    exit 1
  fi
  node bench/profile-top.mjs --top "${PROFILE_TOP:-25}" "${profiles[@]}"
done
