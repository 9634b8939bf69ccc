#!/bin/sh
# Forms a Redis Cluster from cluster-enabled nodes, once, and is safe to run again:
#   - no node has slots yet        -> redis-cli --cluster create
#   - the cluster exists, healthy  -> does nothing
#   - the cluster exists, changed  -> meets members whose address changed, forgets nodes
#                                     that were replaced, adds empty nodes as replicas
# then waits until `redis-cli --cluster check` passes.
#
# Usage: bootstrap-cluster.sh [host:port ...]        (or REDIS_NODES, spaces or commas)
# Environment:
#   REDIS_NODES              the nodes, when none are given as arguments
#   REDIS_CLUSTER_REPLICAS   replicas per master (default 1)
#   REDIS_PASSWORD           optional; handed to redis-cli as REDISCLI_AUTH, never on argv
#   WAIT_TIMEOUT_SECONDS     how long to wait for nodes and for a healthy cluster (default 300)
#   REDIS_CLI                the redis-cli binary (default redis-cli)
set -eu

replicas=${REDIS_CLUSTER_REPLICAS:-1}
timeout=${WAIT_TIMEOUT_SECONDS:-300}
cli_bin=${REDIS_CLI:-redis-cli}
if [ -n "${REDIS_PASSWORD:-}" ]; then
  REDISCLI_AUTH=$REDIS_PASSWORD
  export REDISCLI_AUTH
fi
deadline=$(($(date +%s) + timeout))

log() { echo "bootstrap-cluster: $*" >&2; }
fail() { log "error: $*"; exit 1; }
expired() { [ "$(date +%s)" -ge "$deadline" ]; }

# cli ADDRESS ARGS...: runs redis-cli against ip:port (the port is after the last colon).
cli() {
  address=$1
  shift
  "$cli_bin" -h "${address%:*}" -p "${address##*:}" "$@"
}

# The addresses a name resolves to, the name itself first when it is already an address.
candidates() {
  echo "$1"
  if command -v getent >/dev/null 2>&1; then
    getent ahosts "$1" 2>/dev/null | awk '{ print $1 }' | awk '!seen[$0]++'
  fi
}

# resolve HOST PORT: prints the first ip:port of HOST that answers PING (CLUSTER MEET needs IPs).
resolve() {
  for ip in $(candidates "$1"); do
    case $ip in *[!0-9a-fA-F.:]*) continue ;; esac
    if [ "$(cli "$ip:$2" ping 2>/dev/null)" = "PONG" ]; then
      echo "$ip:$2"
      return 0
    fi
  done
  return 1
}

info_field() { cli "$1" cluster info | tr -d '\r' | sed -n "s/^$2://p"; }

cluster_ok() { cli "$1" --cluster check "$1" >/dev/null 2>&1; }

wait_for_check() {
  until cluster_ok "$1"; do
    expired && { cli "$1" --cluster check "$1" >&2 || true; fail "cluster is not healthy after ${timeout}s"; }
    sleep 1
  done
}

# --- the nodes, resolved -------------------------------------------------------------
nodes=${*:-${REDIS_NODES:-}}
nodes=$(echo "$nodes" | tr ',' ' ')
[ -n "$nodes" ] || fail "no nodes: pass host:port arguments or set REDIS_NODES"

addresses=""
for node in $nodes; do
  host=${node%:*}
  port=${node##*:}
  host=${host#[}
  host=${host%]}
  until address=$(resolve "$host" "$port"); do
    expired && fail "$node did not answer PING within ${timeout}s"
    sleep 1
  done
  addresses="$addresses $address"
  names="${names:-} $host"
done
addresses=${addresses# }
first=${addresses%% *}
log "nodes: $addresses"

# --- what state are they in? ----------------------------------------------------------
members=""
empty=""
empty_names=""
# shellcheck disable=SC2086 # one positional parameter per name
set -- $names
for address in $addresses; do
  known=$(info_field "$address" cluster_known_nodes)
  assigned=$(info_field "$address" cluster_slots_assigned)
  if [ "$known" = "1" ] && [ "$assigned" = "0" ]; then
    empty="$empty $address"
    empty_names="$empty_names $1"
  else
    members="$members $address"
  fi
  shift
done

if [ -z "$members" ]; then
  log "no cluster yet: creating it with $replicas replica(s) per master"
  # shellcheck disable=SC2086 # one argument per address
  cli "$first" --cluster create $addresses --cluster-replicas "$replicas" --cluster-yes
  wait_for_check "$first"
  log "cluster created and healthy"
  exit 0
fi

# A master that serves slots gives the best view of the cluster.
seed=""
for address in $members; do
  if cli "$address" cluster nodes | awk '$3 ~ /myself/ && $3 ~ /master/ && $9 != "" { found = 1 } END { exit !found }'; then
    seed=$address
    break
  fi
done
[ -n "$seed" ] || seed=${members# }
seed=${seed%% *}
view=$(cli "$seed" cluster nodes)

missing=""
for address in $members; do
  echo "$view" | grep -q " $address@" || missing="$missing $address"
done

if [ -z "$empty" ] && [ -z "$missing" ] && cluster_ok "$seed"; then
  log "cluster already formed and healthy: nothing to do"
  exit 0
fi

# Members at an address the cluster does not know (their IP changed): a MEET makes the
# cluster update the known node's address once the handshake reveals its id.
for address in $missing; do
  log "meeting $address (its address is unknown to the cluster)"
  cli "$seed" cluster meet "${address%:*}" "${address##*:}" >/dev/null
done

# A node without slots that lost its address to another node (noaddr), or whose address
# or hostname is now an empty node's, was replaced by it: forget its id everywhere.
ghosts=$(echo "$view" | awk -v addresses=" $empty " -v names=" $empty_names " '
  $3 !~ /myself/ && $9 == "" {
    split($2, parts, ",")
    address = parts[1]; sub(/@.*/, "", address)
    if ($3 ~ /noaddr/ || index(addresses, " " address " ") || (parts[2] != "" && index(names, " " parts[2] " "))) print $1
  }')
for id in $ghosts; do
  log "forgetting replaced node $id"
  for address in $members; do
    cli "$address" cluster forget "$id" >/dev/null 2>&1 || true
  done
done

for address in $empty; do
  log "adding empty node $address as a replica"
  cli "$seed" --cluster add-node "$address" "$seed" --cluster-slave
done

wait_for_check "$seed"
log "cluster healthy"
