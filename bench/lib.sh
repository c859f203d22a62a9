# Shared by the bench/run_*.sh scripts (sourced, not run): a scratch
# directory removed on exit, and PostgreSQL 15 started in it on 127.0.0.1.
#
#   source bench/lib.sh
#   bench_scratch docket-odm-bench        # sets $scratch; cleans up on exit
#   start_postgres 55434 -c synchronous_commit=off
#   start_redis 56379                     # appendonly, in $scratch
#   on_exit 'kill "$docket_pid"'          # more cleanup, run before the scratch goes

pg_bin=/usr/lib/postgresql/15/bin
bench_cleanup_steps=()

as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

on_exit() { bench_cleanup_steps+=("$1"); }

bench_cleanup() {
  local step
  for step in "${bench_cleanup_steps[@]}"; do eval "$step" >/dev/null 2>&1 || true; done
  wait 2>/dev/null || true
  rm -rf "$scratch"
}

bench_scratch() {
  scratch="$(mktemp -d "/tmp/$1.XXXXXX")"
  chmod 777 "$scratch"
  trap bench_cleanup EXIT
}

# start_postgres PORT [-c setting=value ...]: a fresh cluster in $scratch/pg
# (trust auth, user bench), listening on 127.0.0.1:PORT only.
start_postgres() {
  local port="$1"
  shift
  as_postgres "$pg_bin/initdb" -D "$scratch/pg" -A trust -U bench >/dev/null
  as_postgres "$pg_bin/pg_ctl" -D "$scratch/pg" -l "$scratch/pg.log" -w \
    -o "-p $port -k $scratch -c listen_addresses=127.0.0.1 $*" start >/dev/null
  on_exit "as_postgres $pg_bin/pg_ctl -D $scratch/pg -m fast stop"
}

# start_redis PORT: Redis 7 on 127.0.0.1:PORT, append-only file in $scratch
# (the benchmarks set appendfsync per case), no snapshots.
start_redis() {
  redis-server --port "$1" --bind 127.0.0.1 --save "" --appendonly yes --dir "$scratch" \
    --daemonize no --logfile "$scratch/redis.log" &
  on_exit "kill $!"
}
