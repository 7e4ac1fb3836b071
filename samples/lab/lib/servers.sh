# Throwaway MariaDB and PostgreSQL servers inside the real-server namespaces, listening on all
# addresses (so on the VIP, which lives on lo). Sourced by record.sh; needs topo.sh and $WORK.
# shellcheck shell=bash

declare -A SERVER_PID=()

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
# Where the servers' data and sockets live: $WORK, except inside the VM, where $WORK is a 9p share
# (which refuses sockets and fifos) and $SRV_WORK is the VM's own tmpfs.

# servers_init <dir>: fresh data directories for mysql rs1/rs2 and postgres rs1 (run where it is fast:
# on the host, before the VM boots); servers_adopt <dir> copies them to $SRV_WORK.
servers_init() {
  local d=$1
  mkdir -p "$d"; chmod 755 "$d"
  SRV_WORK=$d mysql_init rs1; SRV_WORK=$d mysql_init rs2; SRV_WORK=$d pg_init rs1
}
servers_adopt() { mkdir -p "$SRV_WORK"; chmod 755 "$SRV_WORK"; cp -a "$1"/. "$SRV_WORK"/; }

mysql_init() {
  local h=$1 dir=$SRV_WORK/$1-mysql
  mkdir -p "$dir"
  mariadb-install-db --no-defaults --datadir="$dir/data" --user=root --auth-root-authentication-method=normal \
    --skip-test-db --innodb-log-file-size=4M >"$dir/install.log" 2>&1
}

mysql_start() {
  local h=$1 dir=$SRV_WORK/$1-mysql
  # --skip-grant-tables: any client may log in, no passwords in the lab; --skip-name-resolve: no DNS here.
  # Run directly (not through the inns function) so $! is mariadbd itself: it is what we signal.
  ip netns exec "$(ns "$h")" mariadbd --no-defaults --datadir="$dir/data" --user=root --port=3306 --bind-address=0.0.0.0 \
    --socket="$dir/sock" --pid-file="$dir/pid" --log-error="$dir/error.log" --skip-grant-tables \
    --skip-name-resolve --server-id="${h#rs}" --innodb-buffer-pool-size=16M --innodb-log-file-size=4M --skip-log-bin >/dev/null 2>&1 &
  SERVER_PID[$h-mysql]=$!
  local i
  for i in $(seq 100); do
    [ -S "$dir/sock" ] && inns "$h" mariadb --no-defaults -S "$dir/sock" -e 'select 1' >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "mariadbd on $h did not start; see $dir/error.log" >&2; return 1
}

# mysql_signal <host> <signal>: signal only the server this script started (its pid file: inside the VM a
# sample runs in a subshell, so a server restarted by an earlier sample is not in this shell's SERVER_PID).
mysql_pid() { cat "$SRV_WORK/$1-mysql/pid" 2>/dev/null || echo "${SERVER_PID[$1-mysql]:-}"; }
mysql_signal() { local p; p=$(mysql_pid "$1"); [ -z "$p" ] || kill "-$2" "$p" 2>/dev/null || true; }
mysql_wait_dead() {
  local p i; p=$(mysql_pid "$1")
  wait "${SERVER_PID[$1-mysql]:-0}" 2>/dev/null || true
  for i in $(seq 100); do [ -n "$p" ] && kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  rm -f "$SRV_WORK/$1-mysql/pid"
  unset "SERVER_PID[$1-mysql]"
}

pg_init() {
  local h=$1 dir=$SRV_WORK/$1-pg
  mkdir -p "$dir"
  chown postgres "$dir"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres >"$dir/init.log" 2>&1
  # The client connects over TCP from the lab subnet; the lab needs no passwords.
  echo "host all all 10.77.0.0/24 trust" >>"$dir/data/pg_hba.conf"
}

pg_start() {
  local h=$1 dir=$SRV_WORK/$1-pg
  # setpriv execs in place (runuser would fork), so $! is the postmaster.
  ip netns exec "$(ns "$h")" setpriv --reuid=postgres --regid=postgres --init-groups "$PG_BIN/postgres" -D "$dir/data" -c listen_addresses='*' -c port=5432 \
    -c unix_socket_directories="$dir" -c logging_collector=off -c shared_buffers=16MB >"$dir/server.log" 2>&1 &
  SERVER_PID[$h-pg]=$!
  local i
  for i in $(seq 100); do
    inns "$h" runuser -u postgres -- psql -X -h "$dir" -p 5432 -U postgres -Atc 'select 1' >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "postgres on $h did not start; see $dir/server.log" >&2; return 1
}

# servers_ensure: every server up (a sample that failed halfway may have left one stopped or killed).
servers_ensure() {
  local h
  for h in rs1 rs2; do
    inns "$h" mariadb --no-defaults -S "$SRV_WORK/$h-mysql/sock" -e 'select 1' >/dev/null 2>&1 || {
      mysql_signal "$h" KILL; mysql_wait_dead "$h"; mysql_start "$h"; }
  done
}

servers_stop() {
  local k
  # postgres: SIGINT = fast shutdown (TERM would wait for the orphaned sessions the samples leave).
  for k in "${!SERVER_PID[@]}"; do
    case "$k" in *-pg) kill -INT "${SERVER_PID[$k]}" 2>/dev/null || true ;; *) kill -TERM "${SERVER_PID[$k]}" 2>/dev/null || true ;; esac
  done
  for k in "${!SERVER_PID[@]}"; do wait "${SERVER_PID[$k]}" 2>/dev/null || true; done
  SERVER_PID=()
}
