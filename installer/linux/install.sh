#!/usr/bin/env sh
# Installs the Safecase bundle this tarball carries for the person running it: no admin
# rights, no Python, no internet. Each version goes into its own folder under
# ~/.local/share/safecase/versions/, and ~/.local/bin/safecase points at the current one, so
# `install.sh --rollback` can go back to the version installed before. The store, its key
# file and its backups (in ~/.local/share/safecase/) are never touched.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data="${XDG_DATA_HOME:-$HOME/.local/share}"
home_dir="$data/safecase"
versions="$home_dir/versions"
bin_dir="$HOME/.local/bin"
apps="$data/applications"

link_current() {
  mkdir -p "$bin_dir" "$apps"
  ln -sfn "$1" "$home_dir/current"
  ln -sfn "$home_dir/current/safecase" "$bin_dir/safecase"
  sed "s|@EXEC@|$home_dir/current/safecase|" "$here/safecase.desktop.in" > "$apps/safecase.desktop"
}

case "${1:-}" in
  --rollback)
    [ -f "$home_dir/previous" ] || { echo "No earlier version to go back to." >&2; exit 1; }
    previous=$(cat "$home_dir/previous")
    [ -x "$previous/safecase" ] || { echo "The earlier version is no longer there." >&2; exit 1; }
    link_current "$previous"
    rm -f "$home_dir/previous"
    echo "Safecase is back to $("$previous/safecase" --version)."
    echo "If this version refuses the store as newer, restore the backup taken before the update:"
    echo "  safecase restore --backup $home_dir/backups/before-update-... --store ... --admin ..."
    exit 0
    ;;
  --uninstall)
    rm -f "$bin_dir/safecase" "$apps/safecase.desktop" "$home_dir/current" "$home_dir/previous"
    rm -rf "$versions"
    echo "Safecase removed. The store and its backups in $home_dir were kept."
    exit 0
    ;;
  "") ;;
  *) echo "usage: install.sh [--rollback | --uninstall]" >&2; exit 2 ;;
esac

version=$("$here/safecase/safecase" --version | sed 's/^Safecase //')
target="$versions/$version"
mkdir -p "$versions"
if [ -L "$home_dir/current" ]; then
  old=$(readlink "$home_dir/current")
  [ "$old" = "$target" ] || echo "$old" > "$home_dir/previous"
fi
rm -rf "$target.partial"
mkdir -p "$target.partial"
cp -R "$here/safecase/." "$target.partial/"
rm -rf "$target"
mv "$target.partial" "$target"
link_current "$target"
echo "Safecase $version installed for $(id -un). Run: safecase (or find it in the menu)."
echo "Records are decrypted in memory while the store is open, and memory can be written to swap"
echo "or a hibernation file: keep this laptop's disk encrypted (LUKS)."
