#!/usr/bin/env bash
# Makes a local stand-in for the Dockerfile's default base image (python:3.11-slim-bookworm)
# where no image registry is reachable: a Debian bookworm root with Python 3.11 and pip,
# built by debootstrap from the machine's own Debian mirror and loaded with `docker import`.
#
#   tests/deploy/base_image.sh [TAG]      prints the tag once the image is loaded
#
# The root is kept as a tarball under ~/.cache (BASE_IMAGE_CACHE overrides the folder), so
# a rerun on the same machine imports it in seconds instead of bootstrapping again.
set -euo pipefail

VERSION=1 # bump when the package list below changes: the cached root and tag are rebuilt
TAG="${1:-phone-referrals-base:bookworm-py311-v$VERSION}"
CACHE_DIR="${BASE_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/phone-referrals}"
TARBALL="$CACHE_DIR/base-bookworm-py311-v$VERSION.tar.gz"
PACKAGES=python3,python3-pip,python-is-python3,ca-certificates

log() { echo "base image: $*" >&2; }

if docker image inspect "$TAG" >/dev/null 2>&1; then
	log "$TAG is loaded"
	echo "$TAG"
	exit 0
fi

# The mirror this machine's apt uses (deb822 sources or the one-line format).
debian_mirror() {
	local uri
	uri=$(grep -h -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '{print $2}' | grep -v -- '-security' | head -n 1 || true)
	if [ -z "$uri" ]; then
		uri=$(grep -h -E '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			grep -v -- '-security' | awk '{for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) {print $i; exit}}' |
			head -n 1 || true)
	fi
	[ -n "$uri" ] || { log "no Debian mirror in /etc/apt sources"; exit 1; }
	echo "$uri"
}

if [ ! -s "$TARBALL" ]; then
	if ! command -v debootstrap >/dev/null; then
		log "installing Debian's debootstrap"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
	fi
	mkdir -p "$CACHE_DIR"
	root=$(mktemp -d "${TMPDIR:-/tmp}/base-root.XXXXXX")
	trap 'rm -rf "$root"' EXIT
	mirror=$(debian_mirror)
	log "debootstrap bookworm ($PACKAGES)"
	started=$SECONDS
	debootstrap --variant=minbase --include="$PACKAGES" bookworm "$root" "$mirror" \
		>"$root.log" 2>&1 || {
		tail -n 30 "$root.log" >&2
		exit 1
	}
	rm -f "$root.log"
	# Like the official Python images: pip installs into the system Python, and the image
	# carries no package lists, caches or documentation.
	rm -f "$root"/usr/lib/python3*/EXTERNALLY-MANAGED
	rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
		"$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
	tar -C "$root" --numeric-owner -cf - . | gzip -1 >"$TARBALL.part"
	mv "$TARBALL.part" "$TARBALL"
	log "root cached in $TARBALL ($((SECONDS - started)) s)"
fi

log "importing $TARBALL"
docker import \
	--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	--change 'ENV LANG=C.UTF-8' \
	--change 'CMD ["python3"]' \
	"$TARBALL" "$TAG" >/dev/null
echo "$TAG"
