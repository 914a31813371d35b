#!/usr/bin/env bash
# Stop the end-to-end lab started by .ci/e2e-up.sh and remove its directory.
#
# Usage: .ci/e2e-down.sh LABDIR
#
# Only the processes listed in LABDIR/pids (the lab's daemons, and the ocidns
# serve and containerd the e2e tests start) are signalled, each by PID and
# only while /proc/PID/comm still names the program that was started (a PID
# reused by another process is left alone): SIGTERM, up to 10 s for all to
# exit, then SIGKILL. Safe to run twice, and on a lab that failed half-way.
set -uo pipefail

LAB=${1:?usage: e2e-down.sh LABDIR}
log() { printf 'e2e-down: %s\n' "$*" >&2; }

if [[ ! -d "$LAB" ]]; then
	exit 0
fi
if [[ ! -e "$LAB/.ocidns-e2e" ]]; then
	log "$LAB is not an e2e lab directory (no .ocidns-e2e marker): leaving it alone"
	exit 1
fi

# alive PID COMM: the process exists, is not a zombie, and is still ours.
alive() {
	local stat comm
	[[ -r "/proc/$1/stat" ]] || return 1
	comm=$(cat "/proc/$1/comm" 2>/dev/null) || return 1
	[[ "$comm" == "$2" ]] || return 1
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ "${stat:0:1}" != Z ]]
}

declare -a names=() pids=() comms=()
if [[ -f "$LAB/pids" ]]; then
	while read -r name pid comm; do
		[[ -n "${pid:-}" ]] || continue
		names+=("$name") pids+=("$pid") comms+=("$comm")
	done <"$LAB/pids"
fi

# Stop in reverse start order: clients of a daemon go before the daemon.
for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
	if alive "${pids[i]}" "${comms[i]}"; then
		kill -TERM "${pids[i]}" 2>/dev/null || true
	fi
done
for ((t = 0; t < 100; t++)); do
	left=0
	for i in "${!pids[@]}"; do
		alive "${pids[i]}" "${comms[i]}" && left=1
	done
	((left)) || break
	sleep 0.1
done
for i in "${!pids[@]}"; do
	if alive "${pids[i]}" "${comms[i]}"; then
		log "${names[i]} (pid ${pids[i]}) ignored SIGTERM for 10 s: SIGKILL"
		kill -KILL "${pids[i]}" 2>/dev/null || true
	fi
done
if ((${#pids[@]})); then
	log "stopped ${names[*]}"
fi

rm -rf -- "$LAB"
