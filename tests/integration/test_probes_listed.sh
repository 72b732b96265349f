#!/usr/bin/env bash
# Every probe of usdt/torvyn.d is in the host's ELF notes, with a semaphore,
# and bpftrace (an independent consumer) lists them all.
. "$(dirname "$0")/lib.sh"

want=$(sed -n 's/^[[:space:]]*probe \([a-z_]*\)(.*/\1/p' usdt/torvyn.d | sort)
[ "$(echo "$want" | wc -l)" -ge 18 ] || fail "usdt/torvyn.d declares too few probes: $want"

notes=$(readelf -n --wide "$HOST")
have=$(echo "$notes" | sed -n 's/.*Provider: torvyn.*Name: \([a-z_]*\).*/\1/p' | sort -u)
[ -n "$have" ] || have=$(echo "$notes" | awk '/Provider: torvyn/{getline; print $2}' | sort -u)
assert_eq "probes in readelf -n" "$(echo $want)" "$(echo $have)"

# every site has a semaphore (is-enabled), none is zero
nosem=$(echo "$notes" | grep -A2 'Provider: torvyn' | grep -c 'Semaphore: 0x0000000000000000' || true)
assert_eq "probe sites without a semaphore" 0 "$nosem"

# the probes-compiled-out baseline has none
np=$(readelf -n --wide build/torvyn-host-noprobes | grep -c 'Provider: torvyn' || true)
assert_eq "probe sites in torvyn-host-noprobes" 0 "$np"

if command -v bpftrace >/dev/null && [ "$(id -u)" -eq 0 ]; then
	bt=$(bpftrace -l "usdt:$HOST:*" | sed -n 's/.*:torvyn:\([a-z_]*\)$/\1/p' | sort -u)
	assert_eq "probes listed by bpftrace -l" "$(echo $want)" "$(echo $bt)"
else
	echo "bpftrace -l not checked: needs root and bpftrace"
fi
