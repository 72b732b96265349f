#!/usr/bin/env bash
# scrape.sh URL: GET URL (a tracer's /metrics) and print it without the host
# labels (pid, exe, service) every series carries first, for tests written
# for one host. Fails as curl -f does.
set -euo pipefail
body=$(curl -sf "$1")
printf '%s\n' "$body" |
	sed -E 's/\{pid="[^"]*",exe="[^"]*",service="[^"]*"\}//; s/\{pid="[^"]*",exe="[^"]*",service="[^"]*",/{/'
