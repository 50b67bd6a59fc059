#!/usr/bin/env sh
# Builds Safecase.app and a .dmg on a Mac (it cannot be built on Linux). Run from the top of
# the checkout with Python 3.11 or later:
#   installer/macos/make-dmg.sh
# The person who installs drags Safecase.app into Applications in their own home folder
# (~/Applications), which needs no admin rights. Sign and notarise the .app before sharing:
#   codesign --deep --options runtime --sign "Developer ID Application: ..." dist/Safecase.app
#   xcrun notarytool submit dist/Safecase-VERSION.dmg --keychain-profile ... --wait
set -eu
make bundle
version=$(dist/safecase/safecase --version | sed 's/^Safecase //')
stage=$(mktemp -d)
cp -R dist/Safecase.app "$stage/"
printf 'Drag Safecase into the Applications folder in your home folder (make it if it is not\nthere): no admin password is needed. Your records stay in\n~/Library/Application Support/Safecase when Safecase is updated or removed.\n' \
  > "$stage/How to install.txt"
hdiutil create -volname "Safecase $version" -srcfolder "$stage" -ov -format UDZO \
  "dist/Safecase-$version.dmg"
rm -rf "$stage"
echo "dist/Safecase-$version.dmg"
