#!/bin/sh
# Makes a minimal Debian root filesystem tarball, cleaned like the official *-slim images.
#
#   mkrootfs.sh SUITE OUTPUT.tar.gz MIRROR [SECURITY_MIRROR]
#
# Called by labs/runtime/images.py (which caches OUTPUT under var/cache/lab-images/ and imports
# it with `docker import`); runnable by hand too. Needs root and debootstrap
# (`scripts/services.sh image-tools`). SECURITY_MIRROR may be empty to leave the security suite
# out of /etc/apt/sources.list (for a private mirror that does not carry it).
#
# The cleaning follows debuerreotype (the tool behind the official debian images): docs, man
# pages and translations removed and kept out of later installs (dpkg path-exclude), apt lists
# and caches removed and kept from growing (docker-clean), no service starts during builds
# (policy-rc.d), no host identity files (hosts, hostname, resolv.conf), empty /dev.
set -eu

suite=${1:?usage: mkrootfs.sh SUITE OUTPUT.tar.gz MIRROR [SECURITY_MIRROR]}
out=${2:?output tarball path missing}
mirror=${3:?mirror missing}
security=${4-}

say() { printf '==> %s\n' "$*"; }
die() { printf 'mkrootfs: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "debootstrap needs root (run as root, or with sudo)"
PATH=$PATH:/usr/sbin:/sbin
command -v debootstrap >/dev/null 2>&1 || die "debootstrap is not installed: run scripts/services.sh image-tools (apt-get install debootstrap)"

arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
work=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-rootfs.XXXXXX")
rootfs=$work/rootfs

cleanup() {
    # debootstrap unmounts what it mounted; make sure before deleting anything.
    for m in $(awk -v r="$rootfs" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
        umount -l "$m" 2>/dev/null || true
    done
    if awk -v r="$rootfs" 'index($2, r) == 1 { found = 1 } END { exit !found }' /proc/mounts; then
        printf 'mkrootfs: %s is still mounted; left in place\n' "$rootfs" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT INT TERM

say "debootstrap --variant=minbase --arch=$arch $suite ($mirror)"
debootstrap --variant=minbase --arch="$arch" "$suite" "$rootfs" "$mirror"

# Nothing may stay mounted inside the tree we are about to clean and pack.
for m in $(awk -v r="$rootfs" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount "$m"
done

say "configuring apt and dpkg for containers"
cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
SOURCES
if [ -n "$security" ]; then
    echo "deb $security $suite-security main" >>"$rootfs/etc/apt/sources.list"
fi

cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
# Keep documentation, manual pages and translations out of the image (like debian:*-slim).
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
DPKG
echo force-unsafe-io >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"

cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'APT'
// Delete downloaded packages and binary caches after every install, like the official images.
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
cat >"$rootfs/etc/apt/apt.conf.d/docker-no-languages" <<'APT'
Acquire::Languages "none";
APT
cat >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes" <<'APT'
Acquire::GzipIndexes "true";
Acquire::CompressionTypes::Order:: "gz";
APT
cat >"$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests" <<'APT'
Apt::AutoRemove::SuggestsImportant "false";
APT

# Package installs must not try to start services inside an image build.
cat >"$rootfs/usr/sbin/policy-rc.d" <<'POLICY'
#!/bin/sh
exit 101
POLICY
chmod 0755 "$rootfs/usr/sbin/policy-rc.d"

say "slimming"
chroot "$rootfs" apt-get clean
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
for d in usr/share/man usr/share/info usr/share/locale usr/share/groff usr/share/linda usr/share/lintian/overrides; do
    if [ -d "$rootfs/$d" ]; then
        find "$rootfs/$d" -mindepth 1 -delete
    fi
done
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
rm -f "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old "$rootfs/var/cache/ldconfig/aux-cache"
find "$rootfs/var/log" -type f -delete
rm -rf "$rootfs"/tmp/* "$rootfs"/var/tmp/* "$rootfs"/run/* "$rootfs"/dev/* "$rootfs"/proc/* "$rootfs"/sys/*

# The engine provides these per container; leave neutral defaults instead of the host's.
: >"$rootfs/etc/resolv.conf"
echo localhost >"$rootfs/etc/hostname"
cat >"$rootfs/etc/hosts" <<'HOSTS'
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
HOSTS
if [ -e "$rootfs/etc/machine-id" ]; then : >"$rootfs/etc/machine-id"; fi

say "packing $(du -sh "$rootfs" | cut -f1) into $out"
mkdir -p "$(dirname "$out")"
tar --numeric-owner -C "$rootfs" -czf "$out.part" .
mv "$out.part" "$out"
say "done: $(du -h "$out" | cut -f1)"
