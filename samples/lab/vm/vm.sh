# The real-IPVS back end: Debian's 6.1 kernel in a qemu VM (TCG), the host's root filesystem shared
# read-only under a tmpfs overlay, no network device to the outside. Sourced by record.sh.
# shellcheck shell=bash

VM_CACHE=${LAB_VM_CACHE:-/var/cache/lvscope-lab}
# The modules the initramfs needs to reach the 9p root and build the overlay, in load order.
VM_INITRD_MODULES=(drivers/virtio/virtio_ring.ko drivers/virtio/virtio.ko drivers/virtio/virtio_pci_modern_dev.ko
  drivers/virtio/virtio_pci_legacy_dev.ko drivers/virtio/virtio_pci.ko net/9p/9pnet.ko net/9p/9pnet_virtio.ko
  fs/netfs/netfs.ko fs/fscache/fscache.ko fs/9p/9p.ko fs/overlayfs/overlay.ko)

# vm_kernel: unpack the newest linux-image-6.1.0-*-amd64 into $VM_CACHE (apt-get download + dpkg -x:
# nothing is installed into the host's /boot or /lib/modules). Sets VM_KVER, VM_VMLINUZ, VM_MODULES.
vm_kernel() {
  local pkg
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -1)
  [ -n "$pkg" ] || pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' | cut -d' ' -f1 | sort -V | tail -1)
  [ -n "$pkg" ] || { echo "no linux-image-6.1.0-*-amd64 in the apt lists" >&2; return 1; }
  VM_KVER=${pkg#linux-image-}
  local root=$VM_CACHE/$pkg
  if [ ! -e "$root/.ready" ]; then
    rm -rf "$root"; mkdir -p "$root"
    (cd "$root" && apt-get download "$pkg" >/dev/null 2>&1 && dpkg -x ./*.deb . && rm -f ./*.deb)
    depmod -b "$root" "$VM_KVER"
    touch "$root/.ready"
  fi
  VM_VMLINUZ=$root/boot/vmlinuz-$VM_KVER
  VM_MODULES=$root/lib/modules
  VM_INITRD=$root/initrd.cpio.gz
  if [ ! -e "$VM_INITRD" ] || [ "$LAB_DIR/vm/initramfs-init" -nt "$VM_INITRD" ]; then
    local t m; t=$(mktemp -d)
    mkdir -p "$t/bin" "$t/modules" "$t/proc" "$t/sys" "$t/dev"
    cp /bin/busybox "$t/bin/busybox"
    cp "$LAB_DIR/vm/initramfs-init" "$t/init"
    : >"$t/modules.order"
    for m in "${VM_INITRD_MODULES[@]}"; do
      cp "$VM_MODULES/$VM_KVER/kernel/$m" "$t/modules/"; basename "$m" >>"$t/modules.order"
    done
    (cd "$t" && find . | cpio -o -H newc --quiet | gzip -1) >"$VM_INITRD"
    rm -rf "$t"
  fi
}

# vm_run <work dir> <samples dir> <sample...>: record the samples inside the VM; their raw captures and
# facts land in <work dir>/<sample>, their client.txt/README.md in <samples dir>/<sample>.
vm_run() {
  local work=$1 samples=$2; shift 2
  # The VM runs a copy of the lab (bash reads a script as it goes: an edit of the checkout must not reach
  # a recording in progress); it writes into the real samples folder.
  rm -rf "$work/lab"; cp -a "$LAB_DIR" "$work/lab"
  {
    printf 'LAB_TRACE=%q\nLAB_DIR=%q\nLAB_SAMPLES_DIR=%q\nLAB_IN_VM=1\nLAB_WORK=%q\nLAB_SAMPLES=%q\n' \
      "${LAB_TRACE:-}" "$work/lab" "$samples" "$work/vm" "$*"
  } >"$work/guest.env"
  rm -f "$work/guest.rc"
  mkdir -p "$work/vm"
  echo "== booting $VM_KVER in qemu (TCG, ${LAB_VM_CPUS:-1} cpu)" >&2
  # -nic none: no network device to the outside; every address the lab uses lives in namespaces inside.
  # The host's root is shared read-only; only the work and samples folders are writable.
  qemu-system-x86_64 -accel tcg -cpu max -smp "${LAB_VM_CPUS:-1}" -m "${LAB_VM_MEM:-3072}" -nographic -no-reboot \
    -nic none -rtc base=utc,clock=host \
    -kernel "$VM_VMLINUZ" -initrd "$VM_INITRD" \
    -append "console=ttyS0 quiet panic=-1 lab_init=$work/lab/vm/guest.sh lab_modules=$VM_MODULES lab_work=$work lab_samples=$samples" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -virtfs local,path="$work",mount_tag=labwork,security_model=none,multidevs=remap \
    -virtfs local,path="$samples",mount_tag=labsamples,security_model=none,multidevs=remap \
    </dev/null >"$work/console.log" 2>&1 &
  VM_PID=$!
  wait "$VM_PID" || true
  VM_PID=
  [ -e "$work/guest.rc" ] || { echo "the VM stopped without a result; console:" >&2; tail -30 "$work/console.log" >&2; return 1; }
  [ "$(cat "$work/guest.rc")" = 0 ] || { echo "recording inside the VM failed:" >&2; tail -40 "$work/guest.log" >&2; return 1; }
}
