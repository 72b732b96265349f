#!/usr/bin/env bash
# Installs the Debian 12 packages that are missing; a no-op when all are there.
# $1: packages from the main archive, $2: packages from bookworm-backports.
set -euo pipefail
main_pkgs=($1)
bpo_pkgs=($2)

missing=()
for p in "${main_pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
bpo_missing=()
for p in "${bpo_pkgs[@]}"; do
	v=$(dpkg-query -W -f='${Status} ${Version}' "$p" 2>/dev/null || true)
	case "$v" in
	*"install ok installed"*bpo*) ;;
	*) bpo_missing+=("$p") ;;
	esac
done
[ ${#missing[@]} -eq 0 ] && [ ${#bpo_missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]} ${bpo_missing[*]}" >&2
	echo "deps: run 'make deps' as root to install them (apt-get), or install them yourself" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if [ ${#bpo_missing[@]} -gt 0 ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	echo "deps: enabling bookworm-backports for ${bpo_missing[*]} (libbpf >= 1.3)"
	echo 'deb http://deb.debian.org/debian bookworm-backports main' >/etc/apt/sources.list.d/bookworm-backports.list
fi
echo "deps: installing ${missing[*]} ${bpo_missing[*]}"
apt-get update -qq
if [ ${#bpo_missing[@]} -gt 0 ]; then
	apt-get install -y -qq -t bookworm-backports "${bpo_missing[@]}" >/dev/null
fi
if [ ${#missing[@]} -gt 0 ]; then
	apt-get install -y -qq "${missing[@]}" >/dev/null
fi
