#!/usr/bin/env bash
# bench/cluster/run.sh: three rampart nodes on one PostgreSQL and one Redis
# on this machine (test/cluster's TestCluster, with CHANGES changes of each
# kind, default 100): how long a zone create, update and delete, a
# suspension, a reinstatement, a token revocation and a list activation
# (rollbacks alternating between two OFAC SDN versions, 10-20 of them)
# made through node A take to be applied on every node (p50, p99, max); a
# node killed with kill -9 and restarted; PostgreSQL restarted; Redis down
# and back.
#
# It installs nothing: go, and the PostgreSQL server programs (initdb,
# postgres) and redis-server the test suite uses (see README "Running the
# tests"), must be there. Everything binds to free 127.0.0.1 ports and is
# stopped on exit. RAMPART_TEST_POSTGRES / RAMPART_TEST_REDIS point it at
# existing servers instead (the PostgreSQL restart step then fails: it
# needs the ephemeral server it started).
set -euo pipefail
cd "$(dirname "$0")/../.."

CHANGES=${CHANGES:-100}
date -u +"%Y-%m-%d %H:%M UTC, $(nproc) cores, $CHANGES changes of each kind"
RAMPART_CLUSTER_CHANGES=$CHANGES go test -count=1 -v -timeout 30m -run '^TestCluster$' ./test/cluster 2>&1 |
	grep -E 'propagation|kill -9|PostgreSQL restart|redis (up|down|back)|^(--- |ok|FAIL|PASS)' |
	sed -E 's/^ +cluster_test.go:[0-9]+: //'
