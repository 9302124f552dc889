# shellcheck shell=bash
# shellcheck disable=SC2034 # LAB_* variables are read by lab.sh and services.sh
# history-postgres (issue 13): PostgreSQL 15 (Debian's postgresql package)
# for the scan history's PostgreSQL backend (tests/lab_history.rs).
#
#   history-postgres 127.0.40.54:5432  superuser "mailaudit", trust
#                    authentication from loopback only; no Unix socket
#
# The cluster is the lab's own: initdb into run/postgres/data as the
# `postgres` system user (the package creates it; initdb refuses root), and
# the postmaster runs from it on this address alone, never Debian's
# system cluster (/var/lib/postgresql), which the lab leaves alone.

LAB_PG_ADDR=127.0.40.54
LAB_PG_PORT=5432
LAB_PG_DIR="$LAB_RUN/postgres"
LAB_PG_DATA="$LAB_PG_DIR/data"
LAB_PG_SERVICES=(history-postgres)

# The newest installed server's binaries (initdb, postgres, pg_ctl are not
# on PATH in Debian).
lab_pg_bin() {
	local dir
	dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
	[[ -n $dir && -x $dir/postgres ]] || lab_die "PostgreSQL is not installed -- run: $LAB_DIR/lab.sh install"
	echo "$dir"
}

# Called by lab_generate: the data directory, created once.
lab_postgres() {
	local bin
	bin=$(lab_pg_bin)
	getent passwd postgres >/dev/null || lab_die "no postgres user (the postgresql package creates it) -- run: $LAB_DIR/lab.sh install"
	[[ -s $LAB_PG_DATA/PG_VERSION ]] && return 0
	lab_log "history-postgres: initdb into $LAB_PG_DATA"
	rm -rf "$LAB_PG_DATA"
	mkdir -p "$LAB_PG_DATA"
	chown postgres:postgres "$LAB_PG_DIR" "$LAB_PG_DATA"
	chmod 700 "$LAB_PG_DATA"
	runuser -u postgres -- "$bin/initdb" -D "$LAB_PG_DATA" --username=mailaudit \
		--auth-local=trust --auth-host=trust --encoding=UTF8 --no-locale \
		>"$LAB_LOGS/history-postgres.initdb.log" 2>&1 ||
		{ tail -n 20 "$LAB_LOGS/history-postgres.initdb.log" >&2; lab_die "initdb failed"; }
	# Only loopback clients (a connection to 127.0.40.54 comes from a
	# 127.0.0.0/8 address), and only over TCP: the server has no socket.
	cat >"$LAB_PG_DATA/pg_hba.conf" <<HBA
# mailaudit lab (tests/lab/lib/postgres.sh): loopback only, trust.
host all all 127.0.0.0/8 trust
HBA
	chown postgres:postgres "$LAB_PG_DATA/pg_hba.conf"
}

lab_postgres_launch() {
	local bin log="$LAB_LOGS/history-postgres.log"
	bin=$(lab_pg_bin)
	rm -f "$LAB_PIDS/history-postgres.pid"
	touch "$log"
	chown postgres "$log"
	# pg_ctl starts the postmaster in the background and waits (-w) until
	# it accepts connections; fsync is off: test data, not a database of
	# record.
	lab_detached "$LAB_LOGS/history-postgres.start.log" runuser -u postgres -- \
		"$bin/pg_ctl" start -w -t 60 -D "$LAB_PG_DATA" -l "$log" \
		-o "-c listen_addresses=$LAB_PG_ADDR -p $LAB_PG_PORT -c unix_socket_directories= -c fsync=off -c max_connections=60" ||
		return 1
	# postmaster.pid's first line is the postmaster's pid.
	head -n 1 "$LAB_PG_DATA/postmaster.pid" | tr -dc '0-9' >"$LAB_PIDS/history-postgres.pid"
	lab_proc_record history-postgres "$LAB_PIDS/history-postgres.pid"
}
