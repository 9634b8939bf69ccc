#!/bin/sh
# Starts one Redis Cluster node: writes the settings that must not sit in a ConfigMap (the
# password) or that belong to this pod (its DNS name) to RUNTIME_CONF, which redis.conf
# includes; refreshes the peers' IPs in nodes.conf from their DNS names, so a cluster whose
# pods all restarted with new IPs can find itself again; then execs redis-server.
#
# Environment:
#   REDIS_PASSWORD            requirepass and masterauth (optional)
#   REDIS_ANNOUNCE_HOSTNAME   this node's DNS name (cluster-announce-hostname)
#   REDIS_CONF                default /etc/redis/redis.conf
#   RUNTIME_CONF              default /run/redis/runtime.conf
#   NODES_CONF                default /data/nodes.conf
# With --refresh-only it only rewrites NODES_CONF.
set -eu

redis_conf=${REDIS_CONF:-/etc/redis/redis.conf}
runtime_conf=${RUNTIME_CONF:-/run/redis/runtime.conf}
nodes_conf=${NODES_CONF:-/data/nodes.conf}

# A redis.conf string: double-quoted, with backslashes and quotes escaped.
quote() { printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"; }

# Redis nodes talk to each other by IP, even with hostnames announced: point every node
# line whose hostname resolves at the address it resolves to now.
refresh_addresses() {
  [ -s "$nodes_conf" ] || return 0
  command -v getent >/dev/null 2>&1 || return 0
  tmp="$nodes_conf.refresh"
  : >"$tmp"
  while IFS= read -r line; do
    id=${line%% *}
    rest=${line#* }
    address=${rest%% *}
    others=${rest#* }
    case $address in
      *@*,?*) ;;
      *) printf '%s\n' "$line" >>"$tmp"; continue ;;
    esac
    ipport=${address%%@*}
    suffix=${address#"$ipport"}
    hostname=$(printf '%s' "$suffix" | cut -d, -f2)
    ip=""
    if [ -n "$hostname" ]; then
      ip=$(getent hosts "$hostname" | awk 'NR == 1 { print $1 }') || ip=""
    fi
    if [ -n "$ip" ]; then
      printf '%s %s:%s%s %s\n' "$id" "$ip" "${ipport##*:}" "$suffix" "$others" >>"$tmp"
    else
      printf '%s\n' "$line" >>"$tmp"
    fi
  done <"$nodes_conf"
  mv "$tmp" "$nodes_conf"
}

refresh_addresses
[ "${1:-}" = "--refresh-only" ] && exit 0

mkdir -p "$(dirname "$runtime_conf")"
umask 077
{
  if [ -n "${REDIS_PASSWORD:-}" ]; then
    printf 'requirepass %s\nmasterauth %s\n' "$(quote "$REDIS_PASSWORD")" "$(quote "$REDIS_PASSWORD")"
  fi
  if [ -n "${REDIS_ANNOUNCE_HOSTNAME:-}" ]; then
    printf 'cluster-announce-hostname %s\n' "$REDIS_ANNOUNCE_HOSTNAME"
  fi
} >"$runtime_conf"
exec redis-server "$redis_conf"
