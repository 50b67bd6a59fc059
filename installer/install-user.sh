#!/usr/bin/env sh
# Per-user install on Linux or macOS, no admin rights: a private virtual environment in the
# user's data folder, the `safecase` command in ~/.local/bin and, on Linux, a menu entry.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
case "$(uname -s)" in
  Darwin) home_dir="$HOME/Library/Application Support/Safecase" ;;
  *) home_dir="${XDG_DATA_HOME:-$HOME/.local/share}/safecase" ;;
esac
python3 -m venv "$home_dir/venv"
"$home_dir/venv/bin/python" -m pip install --quiet --upgrade pip
"$home_dir/venv/bin/python" -m pip install --quiet "$here"
mkdir -p "$HOME/.local/bin"
ln -sf "$home_dir/venv/bin/safecase" "$HOME/.local/bin/safecase"
if [ "$(uname -s)" = "Linux" ]; then
  apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
  mkdir -p "$apps"
  sed "s|@EXEC@|$HOME/.local/bin/safecase|" "$here/installer/safecase.desktop.in" > "$apps/safecase.desktop"
fi
echo "Safecase installed for $(id -un). Run: safecase"
echo "Records are decrypted in memory while the store is open, and memory can be written to swap"
echo "or a hibernation file: keep this laptop's disk encrypted (FileVault or LUKS)."
