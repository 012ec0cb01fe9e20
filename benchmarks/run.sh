#!/usr/bin/env bash
# Runs every comparison benchmark of this module and prints the table with
# the ratios to gobreaker and the budget checks (see README.md). Arguments
# go to cmd/benchtable, e.g. ./run.sh -count 5 -raw /tmp/bench.txt
set -euo pipefail
cd "$(dirname "$0")"
# A fresh clone resolves the peers (gobreaker, failsafe-go, the OTel SDK)
# from the module proxy; -mod=mod lets go complete go.sum if the library's
# own requirements moved since it was last tidied.
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"
exec go run ./cmd/benchtable "$@"
