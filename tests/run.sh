#!/usr/bin/env bash
# The test command of the README: installs and starts the lab of real servers
# (Postfix, Dovecot, Knot, nginx on 127.0.x.y), runs every test against it,
# and stops the lab again, also when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/lab/lab.sh install
bash tests/lab/lab.sh up
trap 'bash tests/lab/lab.sh down' EXIT

cargo test --all-targets "$@"
