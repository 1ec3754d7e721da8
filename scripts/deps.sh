#!/usr/bin/env bash
# Installs the Debian 12 packages condlif needs to build, test and plot (as root; a no-op when
# everything is present). Used by the README's two commands and by CI.
set -euo pipefail
pkgs=(build-essential cmake pkg-config git
      libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools libconfig-dev librandom123-dev
      python3-numpy python3-h5py python3-matplotlib python3-libconf strace)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "condlif: installing ${missing[*]}" >&2
  if [ "$(id -u)" != 0 ]; then
    echo "condlif: missing packages need root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
