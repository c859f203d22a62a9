#!/usr/bin/env bash
# The Debian package, built with CPack from a build directory and installed
# into a throwaway root (dpkg -x): its control data, its files, its systemd
# unit checked by systemd-analyze verify (and a broken copy refused, so the
# check can fail), its man page rendered without warnings and agreeing with
# --help, and the packaged program started from the packaged configuration.
# Usage: tests/package/run.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
[ -n "$version" ] || fail "no CPACK_PACKAGE_VERSION in $build/CPackConfig.cmake"
(cd "$build" && cpack -G DEB -B "$work/out" >/dev/null)
deb="$work/out/docket_${version}_amd64.deb"
[ -f "$deb" ] || fail "cpack did not write docket_${version}_amd64.deb: $(ls "$work/out")"

# control data
[ "$(dpkg-deb -f "$deb" Package)" = docket ] || fail "Package is not docket"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "Version is not $version"
[ "$(dpkg-deb -f "$deb" Architecture)" = amd64 ] || fail "Architecture is not amd64"
depends=$(dpkg-deb -f "$deb" Depends)
for needed in adduser librocksdb libmongoc libicu libyaml-cpp; do
  [[ "$depends" == *"$needed"* ]] || fail "Depends lacks $needed: $depends"
done
mkdir "$work/control"
dpkg-deb -e "$deb" "$work/control"
grep -qx /etc/docket/docket.conf "$work/control/conffiles" || fail "/etc/docket/docket.conf is not a conffile"
for script in postinst prerm postrm; do
  [ -x "$work/control/$script" ] || fail "$script is missing or not executable"
  sh -n "$work/control/$script" || fail "$script is not valid sh"
done
grep -q "adduser --system" "$work/control/postinst" || fail "postinst does not create the service's user"

# the files, in a throwaway root
root="$work/root"
dpkg -x "$deb" "$root"
for f in usr/bin/docket usr/lib/systemd/system/docket.service etc/docket/docket.conf usr/share/man/man1/docket.1.gz; do
  [ -f "$root/$f" ] || fail "the package lacks /$f"
done
[ -z "$(find "$root" -path "$root/usr/include*" -o -name '*.a' | head -1)" ] || fail "headers or archives in the package"
"$root/usr/bin/docket" --version | grep -q "docket $version" || fail "the packaged program is not version $version"

# the unit: systemd-analyze verify against the root, with the base system's
# units (targets, slices) a real installation has beside it
unit="$root/usr/lib/systemd/system/docket.service"
grep -qx "User=docket" "$unit" || fail "the unit does not run as the docket user"
grep -qx "StateDirectory=docket" "$unit" || fail "the unit does not own /var/lib/docket"
grep -qx "ExecStart=/usr/bin/docket mongod --config /etc/docket/docket.conf" "$unit" || fail "unexpected ExecStart"
grep -q "dbPath: /var/lib/docket" "$root/etc/docket/docket.conf" || fail "the configuration's dbPath is not /var/lib/docket"
for f in /usr/lib/systemd/system/*.target /usr/lib/systemd/system/*.slice; do
  [ -e "$root/usr/lib/systemd/system/$(basename "$f")" ] || cp -P "$f" "$root/usr/lib/systemd/system/"
done
systemd-analyze --root="$root" --man=no verify "$unit" || fail "systemd-analyze verify refused docket.service"
broken="$root/usr/lib/systemd/system/docket-broken.service"
sed 's|^ExecStart=/usr/bin/docket|ExecStart=/usr/bin/docket-missing|' "$unit" > "$broken"
if systemd-analyze --root="$root" --man=no verify "$broken" 2>/dev/null; then
  fail "systemd-analyze verify accepted a unit whose program does not exist: the check cannot fail"
fi

# the man page: renders without warnings and lists every option --help shows
page="$work/docket.1"
gzip -dc "$root/usr/share/man/man1/docket.1.gz" > "$page"
warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
[ -z "$warnings" ] || fail "groff warns about the man page: $warnings"
rendered=$(MANWIDTH=200 man -l "$page" 2>/dev/null)
for section in "MONGOD COMMAND LINE" "CONFIGURATION FILE" "FILES"; do
  grep -q "$section" <<<"$rendered" || fail "the man page lacks $section"
done
for sub in $("$root/usr/bin/docket" --help | awk '/^Subcommands:/ {on=1; next} on && NF {print $1}'); do
  while read -r option; do
    grep -qF -- "$option" <<<"$rendered" || fail "docket $sub --help shows $option but the man page does not"
  done < <("$root/usr/bin/docket" "$sub" --help | grep -oE -- '--[A-Za-z][A-Za-z_-]*' | sort -u)
done

# the packaged program from the packaged configuration (its port, path and
# log overridden on the command line, as mongod lets the command line do)
mkdir "$work/db"
"$root/usr/bin/docket" mongod --config "$root/etc/docket/docket.conf" --dbpath "$work/db" --port 0 \
  --logpath "$work/docket.log" &
server_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(grep -o '"Waiting for connections".*"port":[0-9]*' "$work/docket.log" 2>/dev/null | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || fail "the packaged program did not start: $(cat "$work/docket.log" 2>/dev/null)"
/usr/bin/python3 -c "
import pymongo, sys
c = pymongo.MongoClient('mongodb://127.0.0.1:$port', serverSelectionTimeoutMS=5000)
c.pkg.t.insert_one({'_id': 1})
assert c.pkg.t.find_one() == {'_id': 1}
"
kill -TERM "$server_pid"
wait "$server_pid" || fail "the packaged program did not exit cleanly on SIGTERM"
server_pid=""
echo "package test passed: $(basename "$deb")"
