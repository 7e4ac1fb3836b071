#!/bin/bash
# PID 1 of the lab VM once the overlay root is in place (see initramfs-init): a minimal boot, then the
# lab's recording in "inside the VM" mode, then power off. The host's record.sh reads the result from the
# writable share ($LAB_WORK, the same path inside and outside).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p"; }
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
ln -sf pts/ptmx /dev/ptmx
# /tmp stays the overlay's (tmpfs upper): the host's work folder is shared at its own path under it.
for d in /run /dev/shm; do mkdir -p "$d"; mount -t tmpfs tmpfs "$d"; done
chmod 1777 /dev/shm
mkdir -p /run/netns
# The kernel's modules (unpacked from Debian's package on the host, depmod'ed there).
mkdir -p /lib/modules
mount --bind "$(arg lab_modules)" /lib/modules
work=$(arg lab_work)
mkdir -p "$work"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 labwork "$work"
samples=$(arg lab_samples)
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 labsamples "$samples"
hostname lvslab
ip link set lo up
echo "guest: kernel $(uname -r), $(nproc) cpu(s), up $(cut -d' ' -f1 /proc/uptime) s"
rc=1
if [ -r "$work/guest.env" ]; then
  # shellcheck disable=SC1091
  set -a; . "$work/guest.env"; set +a
  cd "$LAB_DIR" && bash "$LAB_DIR/record.sh" $LAB_SAMPLES >"$work/guest.log" 2>&1
  rc=$?
fi
echo "$rc" >"$work/guest.rc"
sync
umount "$work" "$samples" 2>/dev/null
echo "guest: record.sh exit $rc, powering off"
echo o >/proc/sysrq-trigger
sleep 10
