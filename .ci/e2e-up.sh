#!/usr/bin/env bash
# Bring up the end-to-end lab on loopback: BIND (authoritative, signed
# zones: lab.test with NSEC, acme.lab.test with NSEC3), unbound (validating,
# with the lab's trust anchor), dnsmasq (a forwarder to BIND that does no
# DNSSEC, as on home routers), docker-registry twice (plain, and token auth
# with the lab's token service), and the test images pushed into them.
#
# Usage: .ci/e2e-up.sh [LABDIR]
#   LABDIR (default: a new mktemp dir) receives everything: zones, keys,
#   configs, logs, the PID list (LABDIR/pids) and the environment of the e2e
#   tests (LABDIR/env, KEY=VALUE lines). Use it with
#       set -a; . LABDIR/env; set +a; go test -race ./internal/e2e/
#   and stop the lab with .ci/e2e-down.sh LABDIR.
#
# Ports (override with the environment variables of the same name):
#   OCIDNS_E2E_DNS_PORT=15353        named
#   OCIDNS_E2E_UNBOUND_PORT=15354    unbound
#   OCIDNS_E2E_DNSMASQ_PORT=15355    dnsmasq
#   OCIDNS_E2E_PLAIN_PORT=15000      docker-registry, no auth
#   OCIDNS_E2E_TOKEN_PORT=15001      docker-registry, token auth
#   OCIDNS_E2E_TOKENSERVER_PORT=15002  token service (realm http://localhost:PORT/token)
#
# cosign (v2.6.5, `go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5`;
# .ci/run installs it) is taken from $COSIGN, else from PATH: the lab's
# owner key is published in acme.lab.test before the zone is signed, and
# the images under acme.lab.test/signed are signed with it, in both of
# cosign's formats, after they are pushed.
#
# Facts this relies on are in ../shared/E2E-NOTES.md. On failure the script
# prints the log of the daemon at fault, stops everything it started and
# exits non-zero (OCIDNS_E2E_KEEP=1 leaves the lab for inspection).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="/usr/local/go/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

DNS_PORT=${OCIDNS_E2E_DNS_PORT:-15353}
UNBOUND_PORT=${OCIDNS_E2E_UNBOUND_PORT:-15354}
DNSMASQ_PORT=${OCIDNS_E2E_DNSMASQ_PORT:-15355}
PLAIN_PORT=${OCIDNS_E2E_PLAIN_PORT:-15000}
TOKEN_PORT=${OCIDNS_E2E_TOKEN_PORT:-15001}
TOKENSERVER_PORT=${OCIDNS_E2E_TOKENSERVER_PORT:-15002}
ZONE=lab.test
SERVICE=ocidns-e2e-registry
ISSUER=ocidns-e2e-issuer

LAB=${1:-$(mktemp -d /tmp/ocidns-e2e.XXXXXX)}
mkdir -p "$LAB"
LAB=$(cd "$LAB" && pwd)
if [[ -s "$LAB/pids" ]]; then
	printf 'e2e-up: %s already holds a lab: stop it first with .ci/e2e-down.sh %s\n' "$LAB" "$LAB" >&2
	exit 1
fi
# The marker lets e2e-down.sh refuse to delete a directory that is not a lab.
touch "$LAB/.ocidns-e2e"
touch "$LAB/pids"
mkdir -p "$LAB"/{zones,keys,anchors,named,unbound,dnsmasq,registry-plain,registry-token,token,logs,bin}

log() { printf 'e2e-up: %s\n' "$*" >&2; }

fail() {
	log "FAILED: $*"
	exit 1
}

# Whatever stops the script early (fail, or set -e on an unexpected error)
# stops what it started, unless the lab is to be kept for inspection.
on_exit() {
	local rc=$?
	if [[ $rc -ne 0 ]]; then
		if [[ "${OCIDNS_E2E_KEEP:-}" == 1 ]]; then
			log "lab kept in $LAB (stop it with .ci/e2e-down.sh $LAB)"
		else
			"$ROOT/.ci/e2e-down.sh" "$LAB" >&2 || true
		fi
	fi
}
trap on_exit EXIT

now() { printf '%s' "${EPOCHREALTIME/,/.}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2fs", b - a }'; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start NAME CMD...: run CMD in the background with its output in
# logs/NAME.log, and record "NAME PID COMM" in pids for e2e-down.sh.
start() {
	local name=$1
	shift
	"$@" </dev/null >"$LAB/logs/$name.log" 2>&1 &
	local pid=$!
	local comm
	comm=$(basename "$1")
	echo "$name $pid ${comm:0:15}" >>"$LAB/pids"
	eval "PID_${name//-/_}=$pid"
}

show_log() {
	log "---- last lines of $LAB/logs/$1.log ----"
	tail -n 40 "$LAB/logs/$1.log" >&2 || true
	log "----"
}

# wait_ready NAME CMD...: retry CMD (bounded: 150 x 0.1 s) until it
# succeeds; fail with the daemon's log when the daemon exits or time is up.
wait_ready() {
	local name=$1
	shift
	local pidvar="PID_${name//-/_}"
	local pid=${!pidvar}
	local i
	for ((i = 0; i < 150; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			show_log "$name"
			fail "$name (pid $pid) exited during start-up"
		fi
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	show_log "$name"
	fail "$name (pid $pid) not ready after 15 s: $*"
}

T_ALL=$(now)
for p in "$DNS_PORT" "$UNBOUND_PORT" "$DNSMASQ_PORT" "$PLAIN_PORT" "$TOKEN_PORT" "$TOKENSERVER_PORT"; do
	if port_in_use "$p"; then
		fail "port 127.0.0.1:$p is already in use (another lab? set OCIDNS_E2E_*_PORT)"
	fi
done
for b in named dnssec-keygen dnssec-signzone dig unbound unbound-checkconf dnsmasq docker-registry curl go; do
	command -v "$b" >/dev/null || fail "$b not found: run .ci/run (it installs the lab's packages) or apt-get install it"
done
COSIGN=${COSIGN:-$(command -v cosign || true)}
[[ -n "$COSIGN" && -x "$COSIGN" ]] ||
	fail "cosign not found: run .ci/run (it builds it), or go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5 and set COSIGN=PATH"

# ---- Go helpers: the token service and the image pusher ----
T=$(now)
# Built with -race like the tests: go test -race ./... needs the same
# race-instrumented packages (go-containerregistry above all), so CI
# compiles them once instead of twice.
(cd "$ROOT" && go build -race -o "$LAB/bin/" ./internal/e2e/tokenserver ./internal/e2e/pushimages ./cmd/ocidns) ||
	fail "building internal/e2e/tokenserver, internal/e2e/pushimages and cmd/ocidns"
log "built lab helpers in $(since "$T")"

# ---- cosign key pairs: the owner's (published) and a rogue one ----
T=$(now)
for k in owner rogue; do
	mkdir -p "$LAB/cosign/$k"
	(cd "$LAB/cosign/$k" && COSIGN_PASSWORD= "$COSIGN" generate-key-pair) >>"$LAB/logs/cosign.log" 2>&1 ||
		fail "cosign generate-key-pair ($k): see $LAB/logs/cosign.log"
done
log "generated cosign key pairs in $(since "$T")"

# ---- zones: render, sign children first, then the parent with their DS ----
T=$(now)
render() {
	sed -e "s/@PLAIN_PORT@/$PLAIN_PORT/g" -e "s/@TOKEN_PORT@/$TOKEN_PORT/g" \
		"$ROOT/testdata/e2e/$1.zone" >"$LAB/zones/$1.zone"
}
sign() { # sign ZONE [dnssec-signzone options]
	local z=$1
	shift
	(
		cd "$LAB/zones"
		dnssec-keygen -q -K ../keys -a ECDSAP256SHA256 -f KSK "$z" >/dev/null
		dnssec-keygen -q -K ../keys -a ECDSAP256SHA256 "$z" >/dev/null
		# 30 days of validity: the zones are signed anew at every lab start.
		dnssec-signzone -q -S "$@" -K ../keys -d ../keys -o "$z" -e +2592000 -f "$z.signed" "$z.zone" >/dev/null
	) || fail "signing $z"
}
for z in acme.lab.test bogus.lab.test unsigned.lab.test "$ZONE"; do
	render "$z"
done
# The owner's signing key, in the same RRset as acme.lab.test's mappings,
# as `ocidns records` writes it: names under acme.lab.test/signed must be
# signed with it.
"$LAB/bin/ocidns" records --host acme.lab.test --ttl 300 --prefix signed --sign required \
	--signing-key "$LAB/cosign/owner/cosign.pub" >>"$LAB/zones/acme.lab.test.zone" ||
	fail "ocidns records --signing-key $LAB/cosign/owner/cosign.pub"
grep -q 'v=ocisig1; prefix=signed; k=ecdsa-p256; p=' "$LAB/zones/acme.lab.test.zone" ||
	fail "the signing key record is not in acme.lab.test.zone"
# A key with sign=required in the unsigned zone: clients must ignore both.
"$LAB/bin/ocidns" records --host unsigned.lab.test --ttl 300 --sign required \
	--signing-key "$LAB/cosign/rogue/cosign.pub" >>"$LAB/zones/unsigned.lab.test.zone" ||
	fail "ocidns records --signing-key $LAB/cosign/rogue/cosign.pub"
# acme.lab.test denies with NSEC3 (RFC 5155), salted and with 5 additional
# iterations (below RFC 9276's limit of 100, so validators check it);
# lab.test and bogus.lab.test with NSEC.
sign acme.lab.test -3 5ca1ab1e -H 5
sign bogus.lab.test
cat "$LAB/keys/dsset-acme.lab.test." "$LAB/keys/dsset-bogus.lab.test." >>"$LAB/zones/$ZONE.zone"
sign "$ZONE"
cp "$LAB/zones/unsigned.lab.test.zone" "$LAB/zones/unsigned.lab.test.signed" # served as is: no keys, no DS

# Tamper with the signed mapping of bogus.lab.test: its RRSIG no longer matches.
sed -i -e "s#registry.lab.test:$PLAIN_PORT/acme\"#registry.lab.test:$PLAIN_PORT/evil\"#" "$LAB/zones/bogus.lab.test.signed"
grep -q "registry.lab.test:$PLAIN_PORT/evil\"" "$LAB/zones/bogus.lab.test.signed" ||
	fail "tampering with bogus.lab.test.signed changed nothing"

# The trust anchor: the parent's DS set, in zone-file syntax (unbound's
# trust-anchor-file and ocidns --trust-anchor), and as a trust-anchors
# clause for `delv -a` when debugging.
cp "$LAB/keys/dsset-$ZONE." "$LAB/anchors/$ZONE.ds"
awk '$3 == "DS" || $4 == "DS" {
	n = ($3 == "DS") ? 4 : 5
	printf "trust-anchors {\n  %s static-ds %s %s %s \"%s", $1, $(n), $(n+1), $(n+2), $(n+3)
	for (i = n + 4; i <= NF; i++) printf "%s", $i
	printf "\";\n};\n"
}' "$LAB/anchors/$ZONE.ds" >"$LAB/anchors/delv.conf"
log "signed 3 zones (+1 unsigned) in $(since "$T")"

# ---- named: authoritative for every lab zone on one port ----
T=$(now)
{
	cat <<EOF
options {
	directory "$LAB/named";
	pid-file "$LAB/named/named.pid";
	session-keyfile "$LAB/named/session.key";
	managed-keys-directory "$LAB/named";
	listen-on port $DNS_PORT { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
	allow-transfer { none; };
};
controls { };
EOF
	for z in "$ZONE" acme.lab.test bogus.lab.test unsigned.lab.test; do
		printf 'zone "%s" { type primary; file "%s"; };\n' "$z" "$LAB/zones/$z.signed"
	done
} >"$LAB/named/named.conf"
named-checkconf "$LAB/named/named.conf" || fail "named-checkconf $LAB/named/named.conf"
start named named -g -4 -c "$LAB/named/named.conf"
wait_ready named bash -c "dig +time=1 +tries=1 +norec @127.0.0.1 -p $DNS_PORT SOA $ZONE | grep -q 'status: NOERROR'"
log "named ready on 127.0.0.1:$DNS_PORT in $(since "$T")"

# ---- unbound: validating, the lab anchor only, stubs to named ----
T=$(now)
{
	cat <<EOF
server:
	interface: 127.0.0.1@$UNBOUND_PORT
	access-control: 127.0.0.0/8 allow
	username: ""
	chroot: ""
	directory: "$LAB/unbound"
	pidfile: "$LAB/unbound/unbound.pid"
	use-syslog: no
	logfile: ""
	verbosity: 1
	val-log-level: 2
	num-threads: 1
	do-ip6: no
	# The lab never leaves loopback: queries go out from 127.0.0.1 only (the
	# kernel will not route them elsewhere), and the root itself is a stub to
	# named, which refuses what it is not authoritative for.
	outgoing-interface: 127.0.0.1
	do-not-query-localhost: no
	trust-anchor-signaling: no
	local-zone: "test." nodefault
	trust-anchor-file: "$LAB/anchors/$ZONE.ds"
	ede: yes
remote-control:
	control-enable: no
EOF
	# One stub per zone (and the root): a delegation cannot carry a port, so unbound must
	# not follow the NS records (they name port 53) for any lab zone.
	for z in . "$ZONE" acme.lab.test bogus.lab.test unsigned.lab.test; do
		printf 'stub-zone:\n\tname: "%s"\n\tstub-addr: 127.0.0.1@%s\n' "$z" "$DNS_PORT"
	done
} >"$LAB/unbound/unbound.conf"
unbound-checkconf "$LAB/unbound/unbound.conf" >/dev/null || fail "unbound-checkconf $LAB/unbound/unbound.conf"
start unbound unbound -d -c "$LAB/unbound/unbound.conf"
wait_ready unbound bash -c "dig +time=1 +tries=1 @127.0.0.1 -p $UNBOUND_PORT SOA $ZONE | grep -q 'status: NOERROR'"
log "unbound ready on 127.0.0.1:$UNBOUND_PORT in $(since "$T")"

# ---- dnsmasq: a forwarder to named that does no DNSSEC (no --dnssec, no
# --proxy-dnssec), as on home routers. named serves no root zone, so
# dnsmasq passes on its REFUSED for the root's DNSKEY RRset: a resolver
# that cannot give a validator the root's keys.
T=$(now)
start dnsmasq dnsmasq --keep-in-foreground --log-facility=- --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
	--bind-interfaces --listen-address=127.0.0.1 --port="$DNSMASQ_PORT" --server="127.0.0.1#$DNS_PORT" \
	--pid-file="$LAB/dnsmasq/dnsmasq.pid" --user="$(id -un)" --group="$(id -gn)"
wait_ready dnsmasq bash -c "dig +time=1 +tries=1 @127.0.0.1 -p $DNSMASQ_PORT SOA $ZONE | grep -q 'status: NOERROR'"
log "dnsmasq ready on 127.0.0.1:$DNSMASQ_PORT in $(since "$T")"

# ---- docker-registry (plain), token service, docker-registry (token) ----
T=$(now)
secret=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
pusher_password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
cat >"$LAB/registry-plain/config.yml" <<EOF
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $LAB/registry-plain/data }
  delete: { enabled: true }
http: { addr: 127.0.0.1:$PLAIN_PORT, secret: $secret }
EOF
start registry-plain docker-registry serve "$LAB/registry-plain/config.yml"

start tokenserver "$LAB/bin/tokenserver" \
	-listen "127.0.0.1:$TOKENSERVER_PORT" -listen "[::1]:$TOKENSERVER_PORT" \
	-cert "$LAB/token/cert.pem" -issuer "$ISSUER" -service "$SERVICE" \
	-user pusher -password "$pusher_password"
wait_ready tokenserver curl -fsS --max-time 2 "http://127.0.0.1:$TOKENSERVER_PORT/healthz"
[[ -s "$LAB/token/cert.pem" ]] || fail "tokenserver wrote no certificate"

cat >"$LAB/registry-token/config.yml" <<EOF
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $LAB/registry-token/data }
  delete: { enabled: true }
http: { addr: 127.0.0.1:$TOKEN_PORT, secret: $secret }
auth:
  token:
    realm: http://localhost:$TOKENSERVER_PORT/token
    service: $SERVICE
    issuer: $ISSUER
    rootcertbundle: $LAB/token/cert.pem
EOF
start registry-token docker-registry serve "$LAB/registry-token/config.yml"

wait_ready registry-plain curl -fsS --max-time 2 "http://127.0.0.1:$PLAIN_PORT/v2/"
# Without a token /v2/ must answer 401 with the lab's realm.
wait_ready registry-token bash -c "curl -sS --max-time 2 -D - -o /dev/null http://127.0.0.1:$TOKEN_PORT/v2/ | grep -qi 'www-authenticate: Bearer realm=\"http://localhost:$TOKENSERVER_PORT/token\"'"
log "registries and token service ready in $(since "$T")"

# ---- the environment of the e2e tests; pushimages appends the digests ----
cat >"$LAB/env" <<EOF
OCIDNS_E2E=1
OCIDNS_E2E_DIR=$LAB
OCIDNS_E2E_ZONE=$ZONE
OCIDNS_E2E_BIND=127.0.0.1:$DNS_PORT
OCIDNS_E2E_UNBOUND=127.0.0.1:$UNBOUND_PORT
OCIDNS_E2E_DNSMASQ=127.0.0.1:$DNSMASQ_PORT
OCIDNS_E2E_ANCHOR=$LAB/anchors/$ZONE.ds
OCIDNS_E2E_PLAIN_PORT=$PLAIN_PORT
OCIDNS_E2E_TOKEN_PORT=$TOKEN_PORT
OCIDNS_E2E_REGISTRY=registry.lab.test:$PLAIN_PORT
OCIDNS_E2E_TOKEN_REGISTRY=registry.lab.test:$TOKEN_PORT
OCIDNS_E2E_TOKEN_REALM=http://localhost:$TOKENSERVER_PORT/token
OCIDNS_E2E_COSIGN_PUB=$LAB/cosign/owner/cosign.pub
OCIDNS_E2E_COSIGN_ROGUE_PUB=$LAB/cosign/rogue/cosign.pub
EOF

T=$(now)
"$LAB/bin/pushimages" -plain "127.0.0.1:$PLAIN_PORT" -token "127.0.0.1:$TOKEN_PORT" \
	-user pusher -password "$pusher_password" -env "$LAB/env" >"$LAB/logs/pushimages.log" 2>&1 || {
	cat "$LAB/logs/pushimages.log" >&2
	show_log registry-plain
	show_log registry-token
	show_log tokenserver
	fail "pushing the test images"
}
log "pushed $(grep -c '^OCIDNS_E2E_DIGEST_' "$LAB/env") manifests in $(since "$T")"

# ---- cosign: sign the images under acme.lab.test/signed ----
# Signed at the registry's loopback address (cosign does not use the lab's
# DNS); the tag format's identity names the repository as the zone maps it.
T=$(now)
digest_of() {
	local d
	d=$(sed -n "s/^OCIDNS_E2E_DIGEST_$1=//p" "$LAB/env")
	[[ -n "$d" ]] || fail "no digest for $1 in $LAB/env"
	printf '%s' "$d"
}
cosign_run() {
	printf '+ cosign %s\n' "$*" >>"$LAB/logs/cosign.log"
	COSIGN_PASSWORD= "$COSIGN" "$@" >>"$LAB/logs/cosign.log" 2>&1 || {
		tail -n 40 "$LAB/logs/cosign.log" >&2
		fail "cosign $1 $2 (log: $LAB/logs/cosign.log)"
	}
}
REG=127.0.0.1:$PLAIN_PORT
IDENT=registry.lab.test:$PLAIN_PORT
OWNER=(--key "$LAB/cosign/owner/cosign.key" --tlog-upload=false -y --allow-http-registry)
cosign_run sign "${OWNER[@]}" --sign-container-identity "$IDENT/acme/signed/app" "$REG/acme/signed/app@$(digest_of SIGNED_APP)"
cosign_run sign "${OWNER[@]}" --sign-container-identity "$IDENT/acme/signed/multi" "$REG/acme/signed/multi@$(digest_of SIGNED_MULTI)"
cosign_run sign "${OWNER[@]}" --new-bundle-format "$REG/acme/signed/bundle@$(digest_of SIGNED_BUNDLE)"
cosign_run sign --key "$LAB/cosign/rogue/cosign.key" --tlog-upload=false -y --allow-http-registry \
	--sign-container-identity "$IDENT/acme/signed/rogue" "$REG/acme/signed/rogue@$(digest_of SIGNED_ROGUE)"
# A replay: the owner's valid signature of acme/signed/app, attached to
# acme/signed/replayed. It verifies with the owner's key but names another
# digest.
mkdir -p "$LAB/cosign/replay"
COSIGN_PASSWORD= "$COSIGN" generate "$REG/acme/signed/app@$(digest_of SIGNED_APP)" >"$LAB/cosign/replay/payload.json" 2>>"$LAB/logs/cosign.log" ||
	fail "cosign generate (log: $LAB/logs/cosign.log)"
cosign_run sign-blob --key "$LAB/cosign/owner/cosign.key" --tlog-upload=false -y \
	--output-signature "$LAB/cosign/replay/payload.sig" "$LAB/cosign/replay/payload.json"
cosign_run attach signature --allow-http-registry --payload "$LAB/cosign/replay/payload.json" \
	--signature "$LAB/cosign/replay/payload.sig" "$REG/acme/signed/replayed@$(digest_of SIGNED_REPLAYED)"
code=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
	"http://$REG/v2/acme/signed/app/manifests/$(digest_of SIGNED_APP | tr : -).sig")
[[ "$code" == 200 ]] || fail "self-check: no cosign signature manifest for acme/signed/app (HTTP $code)"
log "signed 5 images with cosign ($("$COSIGN" version 2>/dev/null | sed -n 's/^GitVersion: *//p')) in $(since "$T")"

# ---- self-check: the lab behaves as the tests assume ----
# A failure here is the lab's, not ocidns's: say so before any test runs.
T=$(now)
digflags() { dig +time=2 +tries=1 "$@"; }
expect() { # expect DESCRIPTION PATTERN dig-args...
	local what=$1 pat=$2
	shift 2
	local out
	out=$(digflags "$@" 2>&1) || true
	if ! grep -Eq "$pat" <<<"$out"; then
		printf '%s\n' "$out" >&2
		delv -a "$LAB/anchors/delv.conf" "+root=$ZONE" @127.0.0.1 -p "$DNS_PORT" TXT "_oci-discovery.$ZONE" >&2 || true
		show_log named
		show_log unbound
		show_log dnsmasq
		fail "self-check: $what (wanted /$pat/)"
	fi
}
B=(@127.0.0.1 -p "$DNS_PORT" +norec +dnssec)
U=(@127.0.0.1 -p "$UNBOUND_PORT" +dnssec)
expect "named serves signed TXT" 'RRSIG[[:space:]]+TXT' "${B[@]}" TXT "_oci-discovery.$ZONE"
expect "named serves the parent's DS for acme" 'IN[[:space:]]+DS[[:space:]]' "${B[@]}" DS "acme.$ZONE"
expect "unbound validates lab.test (AD)" 'flags:[^;]* ad[ ;]' "${U[@]}" TXT "_oci-discovery.$ZONE"
expect "unbound validates acme.lab.test (AD, second hop)" 'flags:[^;]* ad[ ;]' "${U[@]}" TXT "_oci-discovery.acme.$ZONE"
expect "unbound validates SRV (AD)" 'flags:[^;]* ad[ ;]' "${U[@]}" SRV "_oci-registry._tcp.srv.$ZONE"
expect "unbound calls bogus.lab.test bogus" 'status: SERVFAIL' "${U[@]}" TXT "_oci-discovery.bogus.$ZONE"
expect "unbound answers unsigned.lab.test without AD" 'flags: qr rd ra;.*ANSWER: [1-9]' "${U[@]}" TXT "_oci-discovery.unsigned.$ZONE"
expect "unbound resolves registry.lab.test" '127\.0\.0\.1' "${U[@]}" +short A "registry.$ZONE"
expect "named denies with NSEC3 in acme.lab.test" 'NSEC3[[:space:]]+1 0 5 5CA1AB1E' "${B[@]}" TXT "nothing.acme.$ZONE"
expect "unbound validates the NSEC3 denial (AD)" 'flags:[^;]* ad[ ;]' "${U[@]}" TXT "nothing.acme.$ZONE"
M=(@127.0.0.1 -p "$DNSMASQ_PORT" +dnssec)
expect "dnsmasq forwards signed answers" 'status: NOERROR' "${M[@]}" TXT "_oci-discovery.$ZONE"
expect "dnsmasq cannot give the root's DNSKEY RRset" 'status: (REFUSED|SERVFAIL|NXDOMAIN)' "${M[@]}" DNSKEY .

# Anonymous pull from the token registry: token from the realm, then HEAD.
tok=$(curl -fsS --max-time 5 "http://localhost:$TOKENSERVER_PORT/token?service=$SERVICE&scope=repository:secure/app:pull" |
	sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[[ -n "$tok" ]] || fail "self-check: anonymous token from the token service"
code=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -I \
	-H "Authorization: Bearer $tok" -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
	"http://127.0.0.1:$TOKEN_PORT/v2/secure/app/manifests/v1")
[[ "$code" == 200 ]] || {
	show_log registry-token
	fail "self-check: anonymous HEAD secure/app:v1 on the token registry gave $code"
}
log "self-check passed in $(since "$T")"

log "lab up in $(since "$T_ALL"): $LAB (env: $LAB/env, stop: .ci/e2e-down.sh $LAB)"
trap - EXIT
