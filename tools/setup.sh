#!/usr/bin/env bash
# Installs every Debian 12 package pandafly builds and tests with. Idempotent;
# run as root (or with sudo). Nothing is downloaded from anywhere but Debian.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang clang-format libclang-rt-14-dev llvm
  # libraries
  libboost-dev libfmt-dev libcli11-dev nlohmann-json3-dev libpugixml-dev libtomlplusplus-dev
  # tests and benchmarks
  doctest-dev libbenchmark-dev python3 python3-numpy python3-h5py
  # HDF5 (capture writer, dx writer)
  libhdf5-dev hdf5-tools
  # EPICS Channel Access: libca (no headers: the project declares what it
  # uses) and pyepics, an independent client for the CA simulator's tests
  libca-dev python3-pyepics
  # ZeroMQ: the camera frames (areaDetector ADZMQ) and their simulator
  libzmq3-dev cppzmq-dev python3-zmq
  # DXfile: LZ4 (hdf5-filter-plugin) and bitshuffle+LZ4 (bitshuffle: its
  # libh5bshuf.so, filter 32008) HDF5 filter plugins; dxchange (which imports six,
  # tifffile, pandas, scipy without declaring them) and skimage read files
  # back and reconstruct them in tests; xmllint checks the layouts are well-formed XML
  hdf5-filter-plugin bitshuffle python3-dxchange python3-six python3-tifffile python3-pandas
  python3-scipy python3-skimage libxml2-utils
  # full-disk tests of the direct HDF5 driver: a small ext4 image on a loop device;
  # unshare (util-linux) runs the tmpfs full-disk tests without root
  e2fsprogs mount util-linux
  # a loaded machine for the test suite: ctest beside `stress-ng --cpu 2`
  stress-ng
  # the Motion Box's web page (`pandafly motionbox serve`) tested in a real
  # headless browser: chromium driven by selenium through chromedriver
  chromium chromium-driver python3-selenium
  # pandafly-dx slice/preview (issue 20): libpng writes the PNGs (the reference
  # PNG library, maintained, already on the image); FFTW (single precision)
  # the gridding reconstruction's transforms (a 2048-pixel row from 1800
  # projections in well under a second needs a fast 4096² transform)
  libpng-dev libfftw3-dev
  # pandafly-dx plots (issue 20): Cairo draws the charts — lines, text (its own
  # font rendering through fontconfig/FreeType) and PNG output in one maintained
  # library, so no font rasteriser or chart encoder of our own
  libcairo2-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
