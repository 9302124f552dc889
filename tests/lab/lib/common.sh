# shellcheck shell=bash
# shellcheck disable=SC2034 # LAB_* variables are used by other files and templates
# Shared paths and small helpers. Sourced by lab.sh; LAB_DIR is set there
# from the script's own location so the lab works from any current directory.

LAB_CONF="$LAB_DIR/conf"
# Everything generated (keys, certificates, zones, configs, queues,
# mailboxes, logs, pid files) lives here; it is gitignored.
# A git worktree may share another checkout's running lab through a symlink
# run -> .../tests/lab/run: resolve it, so every rendered path is the same
# whichever checkout renders it (and nothing is restarted for a path).
LAB_RUN=$(cd "$LAB_DIR/run" 2>/dev/null && pwd -P || echo "$LAB_DIR/run")
LAB_PIDS="$LAB_RUN/pids"
LAB_LOGS="$LAB_RUN/logs"

# Fixed lab addresses: this is the contract with the Rust integration tests.
LAB_DNS_ADDR=127.0.10.53
LAB_GOOD_MX=127.0.11.25
LAB_GOOD_IMAP=127.0.11.143
LAB_GOOD_WEB=127.0.11.80
LAB_BAD_MX=127.0.12.25
LAB_BAD_IMAP=127.0.12.143
LAB_BAD_POP=127.0.12.110
# broken.test only needs DNS answers; nothing listens here.
LAB_BROKEN_MX=127.0.13.25

# Unix socket paths are limited to ~107 bytes. Dovecot puts sockets such as
# "token-login/imap-urlauth" under its base_dir and Postfix keeps its
# sockets in the queue directory, so if the checkout lives in a deep
# directory, both move to a short per-checkout directory under /tmp.
if ((${#LAB_RUN} <= 50)); then
	LAB_SHORT=$LAB_RUN
else
	LAB_SHORT="/tmp/mailaudit-lab-$(printf '%s' "$LAB_RUN" | md5sum | cut -c1-10)"
fi
LAB_SOCK="$LAB_SHORT/sock"

lab_log() { printf 'lab: %s\n' "$*" >&2; }
lab_die() {
	printf 'lab: ERROR: %s\n' "$*" >&2
	exit 1
}

# Is PID a live process? A zombie counts as gone: our daemons are
# re-parented to init, which may reap them a little later.
lab_pid_alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ $st != Z* ]]
}

# Wait until a pid has disappeared; returns 1 on timeout (seconds).
lab_wait_pid_gone() {
	local pid=$1 timeout=${2:-15} i
	for ((i = 0; i < timeout * 10; i++)); do
		lab_pid_alive "$pid" || return 0
		sleep 0.1
	done
	return 1
}

# Is something accepting TCP connections on ADDR:PORT? Uses bash's /dev/tcp
# so no extra tool is needed; the connection is closed immediately.
lab_port_open() {
	local addr=$1 port=$2
	timeout 2 bash -c "exec 3<>/dev/tcp/$addr/$port" 2>/dev/null
}

# Run a command (a daemon that forks itself) with stdin from /dev/null,
# output appended to LOG and every other inherited descriptor closed: a
# daemon must not keep our lock (fd 9) or a caller's pipe open forever.
lab_detached() {
	local log=$1
	shift
	(
		local fd
		for fd in "/proc/$BASHPID/fd/"*; do
			fd=${fd##*/}
			((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
		done
		exec "$@" </dev/null >>"$log" 2>&1
	)
}

# Write stdin to DEST only if the content differs, so re-running `up`
# leaves files (and the services reading them) untouched. Records the
# owning service in LAB_CHANGED so `up` can restart just that one.
# Feed it with `< <(...)`, never from a pipe: a pipe would run it in a
# subshell and the LAB_CHANGED update would be lost.
declare -A LAB_CHANGED=()
lab_put() {
	local dest=$1 service=${2:-} tmp
	tmp=$(mktemp "$dest.XXXXXX")
	cat >"$tmp"
	if [[ -f $dest ]] && cmp -s "$tmp" "$dest"; then
		rm -f "$tmp"
	else
		chmod 644 "$tmp"
		mv -f "$tmp" "$dest"
		[[ -z $service ]] || LAB_CHANGED[$service]=1
	fi
}

# Render a template from conf/: every @NAME@ whose NAME is an exported
# LAB_* variable is replaced by its value. Templates stay plain config files
# that are easy to read and diff.
lab_render() {
	local tmpl=$1 dest=$2 service=${3:-} script="" var val
	for var in ${!LAB_*}; do
		# skip associative arrays such as LAB_CHANGED
		[[ $(declare -p "$var" 2>/dev/null) =~ ^declare\ -[a-zA-Z-]*A ]] && continue
		val=${!var}
		val=${val//\\/\\\\}
		val=${val//|/\\|}
		val=${val//&/\\&}
		script+="s|@${var}@|${val}|g;"
	done
	lab_put "$dest" "$service" < <(sed -e "$script" "$LAB_CONF/$tmpl")
	if grep -q '@LAB_[A-Z0-9_]*@' "$dest"; then
		lab_die "unrendered placeholder in $dest: $(grep -o '@LAB_[A-Z0-9_]*@' "$dest" | sort -u | tr '\n' ' ')"
	fi
}
