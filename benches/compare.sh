#!/usr/bin/env bash
# Side-by-side benchmark: promlite, Prometheus and VictoriaMetrics on the same data.
# Installs the Debian peers if missing, builds promlite in release mode, and runs
# `promlite bench compare` (which starts and stops every server by PID).
# Extra arguments go to `promlite bench compare`, e.g. `--series 2000 --duration 1h`.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v victoria-metrics >/dev/null 2>&1 || need+=(victoria-metrics)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

cargo build --release --quiet
exec target/release/promlite bench compare "$@"
