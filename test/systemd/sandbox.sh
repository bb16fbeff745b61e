#!/bin/sh
# Runs a command the way rollcall.service has systemd run the daemon, as far as that can be
# done without systemd: run as root, inside `unshare --mount --uts --ipc --pid --fork
# --propagation private` (the test does that), so every mount below is private to it.
#
# Usage: sandbox.sh STATE SPOOL RUNTIME ETC UID GID -- COMMAND [ARGS...]
#   STATE, SPOOL, RUNTIME  host folders that appear as /var/lib/rollcall,
#                          /var/spool/rollcall and /run/rollcall (StateDirectory=,
#                          ReadWritePaths=, RuntimeDirectory=)
#   ETC                    host folder with the config, read-only at /run/etc-rollcall
#                          (the test host has no /etc/rollcall to mount it on)
#   UID GID                the user the command runs as (User=, Group=)
# Environment: SANDBOX_MDWE=1 adds MemoryDenyWriteExecute (to show that Node dies of it).
#
# Option by option (systemd.exec(5)):
#   ProtectProc=invisible, ProcSubset=pid  a new procfs with hidepid=invisible,subset=pid
#   PrivateTmp=yes                         empty tmpfs on /tmp and /var/tmp
#   PrivateDevices=yes                     tmpfs /dev with null zero full random urandom tty, shm, pts
#   ProtectHome=yes                        empty, inaccessible /home /root /run/user
#   ProtectKernelModules=yes               /usr/lib/modules inaccessible (+ no CAP_SYS_MODULE)
#   ProtectSystem=strict                   every mount read-only ...
#   ProtectKernelTunables, ProtectControlGroups  ... /sys and /proc/sys included ...
#   StateDirectory, RuntimeDirectory, ReadWritePaths  ... except these three, bound read-write
#   ProtectKernelLogs=yes                  no /dev/kmsg, no /proc/kmsg (subset=pid)
#   ProtectHostname=yes                    own UTS namespace (unshare --uts)
#   User=, Group=, NoNewPrivileges=yes, CapabilityBoundingSet= (empty), UMask=0027
#                                          setpriv and umask, below
#   SystemCallFilter= and the Restrict*/LockPersonality/SystemCallArchitectures options
#                                          seccomp-exec.py beside this file
set -eu

state=$1 spool=$2 runtime=$3 etc=$4 uid=$5 gid=$6
shift 6
[ "$1" = "--" ] && shift
here=$(cd "$(dirname "$0")" && pwd)
# The checkout under test (production runs from /opt/rollcall; a test may run from /tmp or a
# home folder, which PrivateTmp and ProtectHome hide): kept reachable at its own path below.
repo=$(cd "$here/../.." && pwd)

# ProtectProc=invisible, ProcSubset=pid (needs the new PID namespace unshare made)
mount -t proc -o nosuid,nodev,noexec,hidepid=invisible,subset=pid proc /proc

# The three writable places and the config, at their production paths. A tmpfs first
# gives each a mount point without touching the host's /var/lib, /var/spool, /run or /etc.
mount -t tmpfs -o mode=0755 tmpfs /var/lib
mkdir /var/lib/rollcall /var/lib/.rollcall-checkout
mount --bind "$repo" /var/lib/.rollcall-checkout
mount --bind "$state" /var/lib/rollcall
mount -t tmpfs -o mode=0755 tmpfs /var/spool
mkdir /var/spool/rollcall
mount --bind "$spool" /var/spool/rollcall
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir /run/rollcall /run/rollcall-notify
mount --bind "$runtime" /run/rollcall
if [ -n "${SANDBOX_NOTIFY_DIR:-}" ]; then mount --bind "$SANDBOX_NOTIFY_DIR" /run/rollcall-notify; fi
mkdir -p /run/etc-rollcall
mount --bind "$etc" /run/etc-rollcall

# PrivateTmp=yes (after the binds: the test's folders live under /tmp)
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /var/tmp

# PrivateDevices=yes
mount -t tmpfs -o mode=0755,nosuid,noexec tmpfs /dev
mknod -m 0666 /dev/null c 1 3
mknod -m 0666 /dev/zero c 1 5
mknod -m 0666 /dev/full c 1 7
mknod -m 0666 /dev/random c 1 8
mknod -m 0666 /dev/urandom c 1 9
mknod -m 0666 /dev/tty c 5 0
mkdir /dev/shm /dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr

# ProtectHome=yes
for home in /home /root /run/user; do
  if [ -d "$home" ]; then
    # Only passable (not listable) when the checkout under test lives below it.
    case "$repo/" in
      "$home"/*) mount -t tmpfs -o mode=0711 tmpfs "$home" ;;
      *) mount -t tmpfs -o ro,mode=0000 tmpfs "$home" ;;
    esac
  fi
done
# ProtectKernelModules=yes
for modules in /usr/lib/modules /lib/modules; do
  if [ -d "$modules" ] && ! [ -L "$modules" ]; then mount -t tmpfs -o ro,mode=0000 tmpfs "$modules"; fi
done

# The checkout back at its own path where a private /tmp or a hidden home covered it.
if [ ! -e "$repo/package.json" ]; then
  mkdir -p "$repo"
  mount --bind /var/lib/.rollcall-checkout "$repo"
fi

# ProtectSystem=strict, ProtectKernelTunables=yes, ProtectControlGroups=yes: every mount
# read-only but the API file systems systemd leaves to other options (/proc, /dev) and the
# writable places. Deepest first is not needed: each mount is flagged on its own.
writable="/var/lib/rollcall /var/spool/rollcall /run/rollcall /tmp /var/tmp /dev /dev/shm /dev/pts /proc"
awk '{ print $5 }' /proc/self/mountinfo | sort -u | while read -r target; do
  target=$(printf '%b' "$target")
  skip=no
  for w in $writable; do [ "$target" = "$w" ] && skip=yes; done
  if [ $skip = no ]; then mount -o remount,bind,ro "$target" 2>/dev/null || mount -o remount,ro "$target" 2>/dev/null || true; fi
done

export SANDBOXED=1 HOME=/var/lib/rollcall RUNTIME_DIRECTORY=/run/rollcall STATE_DIRECTORY=/var/lib/rollcall
mdwe=
if [ "${SANDBOX_MDWE:-}" = 1 ]; then mdwe=--mdwe; fi
# User=, Group=, NoNewPrivileges=yes, CapabilityBoundingSet= (and no ambient or inheritable
# capabilities), UMask=0027, then the system call filter.
exec setpriv --reuid="$uid" --regid="$gid" --clear-groups --no-new-privs \
  --bounding-set=-all --inh-caps=-all --ambient-caps=-all \
  /bin/sh -c 'umask 0027; exec "$@"' sh /usr/bin/python3 "$here/seccomp-exec.py" $mdwe -- "$@"
