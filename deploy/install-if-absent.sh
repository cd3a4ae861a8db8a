#!/bin/sh
# meson install script (deploy/meson.build): install-if-absent.sh SOURCE TARGET [SOURCE
# TARGET...] copies each SOURCE to $DESTDIR/TARGET (mode 644) unless that file exists, so
# that a reinstall keeps the operator's config and /etc/default/sluice. TARGETs are
# absolute.
set -eu
while [ $# -ge 2 ]; do
  source=$1 target=${DESTDIR:-}$2
  shift 2
  if [ -e "$target" ]; then
    echo "Keeping $target (exists; the example is $source)"
    continue
  fi
  mkdir -p "$(dirname "$target")"
  cp "$source" "$target"
  chmod 644 "$target"
  echo "Installing $source to $target"
done
