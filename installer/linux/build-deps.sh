#!/bin/sh
# What the Linux build machine needs besides Python, for `make bundle` and `make bundle-test`
# (run by both before they build):
#   * the X11 libraries Qt's xcb platform loads, so PyInstaller copies them into the bundle
#     and a laptop without them still opens windows;
#   * icupkg (icu-devtools) and a C compiler, to cut Qt's ICU data down to what Safecase uses;
#   * libXau, whose compact copy stands in for Pillow's padded one, and MIT Kerberos (GSSAPI),
#     which the bundle's libpq takes from the laptop (as libcups does) and the tests load;
#   * GNOME Keyring and dbus-run-session, so the bundle test runs the self-test against a
#     real Secret Service in a throw-away session.
# As root on Debian or Ubuntu it installs what is missing with apt-get; otherwise it names
# the missing packages. Under CI (CI=true) anything still missing fails the build.
set -eu

PACKAGES="libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
libxcb-render-util0 libxcb-render0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1
libxcb-xfixes0 libxcb-xkb1 libxkbcommon-x11-0 libx11-xcb1 icu-devtools gcc binutils
libxau6 libgssapi-krb5-2 gnome-keyring dbus-daemon"

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "build-deps: not a Debian-based system; install the equivalents of: $PACKAGES" >&2
    [ "${CI:-}" = "true" ] && exit 1
    exit 0
fi

missing=""
for package in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    case "$status" in
        *" installed") ;;
        *) missing="$missing $package" ;;
    esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "build-deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086 # one word per package
    if apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null
    then
        exit 0
    fi
    echo "build-deps: apt-get could not install$missing" >&2
    [ "${CI:-}" = "true" ] && exit 1
    exit 0
fi

echo "build-deps: missing$missing (install them as root: apt-get install$missing)" >&2
[ "${CI:-}" = "true" ] && exit 1
exit 0
