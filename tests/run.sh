#!/usr/bin/env bash
# The test command of the README: installs and starts the lab of real servers
# (Postfix, Dovecot, Knot, nginx on 127.0.x.y), runs every test against it,
# and stops the lab again, also when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/lab/lab.sh install
# poppler-utils and chromium: the PDF and browser tests read the reports as a
# reader would, so the test command brings them too and requires them.
bash tests/lab/lab.sh install-test-tools
export MAILAUDIT_REQUIRE_BROWSER=1
bash tests/lab/lab.sh up
trap 'bash tests/lab/lab.sh down' EXIT

cargo test --all-targets "$@"

# The peer comparison (testssl.sh, sslyze; about 15 minutes) is too slow for
# every run. CI sets MAILAUDIT_PEERS=changed: then it runs while the lab is
# still up, but only when the TLS prober differs from the version last
# compared (tests/peers/compared.sha256).
if [[ ${MAILAUDIT_PEERS:-} == changed ]]; then
	bash tests/peers/compare.sh --if-changed
fi
