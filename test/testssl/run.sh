#!/usr/bin/env bash
# test/testssl/run.sh: starts rampart on 127.0.0.1 with a self-signed test
# certificate (a zone with HSTS) and runs Debian's testssl.sh against its
# HTTPS listener, then prints the findings at severity LOW or above as a
# table (and the whole JSON stays in $OUT, default /tmp/rampart-testssl.json).
#
#   apt-get install -y testssl.sh   # Debian's package; the command is "testssl"
#   test/testssl/run.sh
#
# Findings about the test certificate itself (self-signed chain, short
# validity, no CRL/OCSP URI, no CAA record, no certificate transparency)
# are expected and marked "test cert". Everything binds to 127.0.0.1 ports
# 18443 (https), 18480 (http) and 18181 (origin) and is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."

HTTPS_PORT=18443 HTTP_PORT=18480 ORIGIN_PORT=18181
OUT=${OUT:-/tmp/rampart-testssl.json}
TESTSSL=$(command -v testssl || command -v testssl.sh || true)
[ -n "$TESTSSL" ] || { echo "run.sh: testssl not found (apt-get install -y testssl.sh)" >&2; exit 1; }
for tool in go openssl python3; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool not found" >&2; exit 1; }
done
. bench/lib.sh
ports_free $HTTPS_PORT $HTTP_PORT $ORIGIN_PORT
workdir testssl

echo "# building rampart" >&2
go build -o "$W/rampart" ./cmd/rampart
go build -o "$W/h3" ./bench/h3

# A self-signed P-256 certificate for rampart.test, valid 90 days.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90 \
	-subj "/CN=rampart.test" -addext "subjectAltName=DNS:rampart.test" \
	-keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null

"$W/h3" -origin 127.0.0.1:$ORIGIN_PORT &
STARTED+=($!)
cat >"$W/rampart.yaml" <<CONF
listen: {http: "127.0.0.1:$HTTP_PORT", https: "127.0.0.1:$HTTPS_PORT", admin: ""}
data_dir: $W/data
log: {format: "off", level: warn}
tls:
  certificates: [{cert: $W/cert.pem, key: $W/key.pem}]
zones:
  - host: rampart.test
    origins: [http://127.0.0.1:$ORIGIN_PORT]
    hsts: {max_age: 31536000, include_subdomains: true}
CONF
"$W/rampart" serve --config "$W/rampart.yaml" >"$W/rampart.log" 2>&1 &
STARTED+=($!)
for _ in $(seq 100); do
	(exec 3<>/dev/tcp/127.0.0.1/$HTTPS_PORT) 2>/dev/null && break
	sleep 0.1
done

echo "# testssl $("$TESTSSL" --version 2>/dev/null | grep -m1 -oE '[0-9]+\.[0-9]+\.[0-9]+' || true) against https://rampart.test:$HTTPS_PORT (127.0.0.1)" >&2
rm -f "$OUT"
"$TESTSSL" --quiet --color 0 --warnings off --ip 127.0.0.1 --jsonfile "$OUT" \
	"https://rampart.test:$HTTPS_PORT/" >"$W/testssl.txt" 2>&1 || true
[ -s "$OUT" ] || { cat "$W/testssl.txt"; echo "run.sh: testssl wrote no JSON" >&2; exit 1; }

python3 - "$OUT" <<'PY'
import json, re, sys
findings = json.load(open(sys.argv[1]))
if isinstance(findings, dict):
    findings = findings.get("scanResult", findings)
order = {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2, "LOW": 3}
# About the self-signed test certificate itself, not about rampart.
cert = re.compile(r"^(cert_chain_of_trust|cert_trust|cert_expirationStatus|cert_validityPeriod|cert_notAfter|"
                  r"cert_crlDistributionPoints|cert_ocspURL|DNS_CAArecord|cert_certificateTransparency|"
                  r"cert_revocation|OCSP_stapling|cert_mustStapleExtension)")
rows = [f for f in findings if f.get("severity") in order]
rows.sort(key=lambda f: (order[f["severity"]], f["id"]))
other = 0
print("| id | severity | finding | about |")
print("|---|---|---|---|")
for f in rows:
    about = "test cert" if cert.match(f["id"]) else "rampart"
    other += about == "rampart"
    print(f"| {f['id']} | {f['severity']} | {f['finding'].replace('|', '/')} | {about} |")
ok = sum(1 for f in findings if f.get("severity") == "OK")
print(f"\n{len(rows)} findings at LOW or above ({other} not about the test certificate); {ok} checks OK")
sys.exit(1 if other else 0)
PY
