#!/bin/sh
# depgraph's POSIX shell collector: a snapshot for `depgraph audit --snapshot FILE` from a host
# without Python 3 (Ubuntu 12.04, busybox systems). Print it with `depgraph collect --shell`.
#
#   sh collect.sh [-o HOST.tar.gz] [--library PKG]... [--with-lists]
#
# It writes the format of `depgraph collect` (depgraph-snapshot/1) minus the ELF symbol evidence:
# the dpkg status and file lists, dpkg -l, dpkg.log*, the changelogs of the library packages (whole)
# and of their dependents (newest entries), the release files, openssl version -a, the sonames of
# the dependents' ELF files (readelf or objdump, when present), and, for each process that maps
# the library, its maps lines, stat, cgroup, owner, exe, sockets and the identity of the mapped
# files. It needs only sh, awk, sed, grep, tar, gzip and stat (coreutils or busybox); it writes
# nothing but the output file and a private temporary directory, and never copies a private key
# (server configurations and certificates are carried redacted: see below).

set -u
OUT=""
LIBS=""
WITH_LISTS=0
DEPENDENT_CHANGELOG_ENTRIES=5
DEFAULT_LIBS="libssl1.0.0 libssl3 liblzma5 libssl3t64 libssl1.1 libssl1.0.2"

while [ $# -gt 0 ]; do
  case "$1" in
    -o|--output) [ $# -ge 2 ] || { echo "collect.sh: -o needs a file" >&2; exit 2; }; OUT=$2; shift 2 ;;
    --library) [ $# -ge 2 ] || { echo "collect.sh: --library needs a package" >&2; exit 2; }; LIBS="$LIBS $2"; shift 2 ;;
    --with-lists) WITH_LISTS=1; shift ;;
    -h|--help) sed -n '2,13p' "$0" 2>/dev/null | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "collect.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done

HOST=$(hostname 2>/dev/null || uname -n)
[ -n "$OUT" ] || OUT="$HOST.tar.gz"
umask 077
WORK=$(mktemp -d 2>/dev/null || mktemp -d -t depgraph.XXXXXX) || { echo "collect.sh: cannot make a temporary directory" >&2; exit 2; }
trap 'rm -rf "$WORK"' EXIT
trap 'rm -rf "$WORK"; exit 130' INT TERM
TREE="$WORK/tree"
META="$TREE/depgraph-snapshot"
INFO=/var/lib/dpkg/info
mkdir -p "$META/proc" "$TREE/var/lib/dpkg/info" "$TREE/var/log" "$TREE/etc" "$TREE/usr/lib" "$TREE/usr/share/doc"
: > "$WORK/captured"
: > "$WORK/missing"
captured() { echo "$1" >> "$WORK/captured"; }
missing() { printf '%s\t%s\n' "$1" "$2" >> "$WORK/missing"; }

# --- the dpkg database, logs, release ---------------------------------------------------------
for f in etc/os-release usr/lib/os-release etc/lsb-release etc/debian_version; do
  [ -r "/$f" ] && cat "/$f" > "$TREE/$f" 2>/dev/null
done
if cat /var/lib/dpkg/status > "$TREE/var/lib/dpkg/status" 2>/dev/null; then
  captured dpkg-status
else
  missing "dpkg status" "/var/lib/dpkg/status cannot be read"
fi
found=0
for f in "$INFO"/*.list; do
  [ -f "$f" ] || continue
  cat "$f" > "$TREE/var/lib/dpkg/info/${f##*/}" && found=1
done
[ "$found" = 1 ] && captured dpkg-lists || missing "dpkg file lists" "none under $INFO"
found=0
for f in /var/log/dpkg.log*; do
  [ -f "$f" ] || continue
  cat "$f" > "$TREE/var/log/${f##*/}" && found=1
done
[ "$found" = 1 ] && captured dpkg-log || missing "dpkg.log" "no /var/log/dpkg.log* on this host"

list_of() {  # the .list of an installed package, any architecture
  for l in "$INFO/$1.list" "$INFO/$1":*.list; do
    [ -f "$l" ] && { echo "$l"; return 0; }
  done
  return 1
}

if [ -z "$LIBS" ]; then
  for lib in $DEFAULT_LIBS; do
    list_of "$lib" > /dev/null && LIBS="$LIBS $lib"
  done
fi
for lib in $LIBS; do
  list_of "$lib" > /dev/null || missing "library $lib" "not installed on this host"
done

# --- the dependents: every installed package that depends on a library (Pre-Depends, Depends,
# Recommends, Suggests), through Provides too, from the status file (deb822, Policy 7) --------
awk -v libs="$LIBS" '
  function names(text, n, i, parts, name) {
    gsub(/\([^)]*\)/, "", text); gsub(/\[[^]]*\]/, "", text); gsub(/<[^>]*>/, "", text)
    n = split(text, parts, /[,|]/)
    for (i = 1; i <= n; i++) {
      name = parts[i]; gsub(/[ \t]/, "", name); sub(/:.*/, "", name)
      if (name != "") deps[pkg] = deps[pkg] " " name
    }
  }
  function flush() {
    if (pkg != "" && installed) { all[pkg] = 1; provides[pkg] = provides[pkg] " " pkg }
    pkg = ""; installed = 0; field = ""
  }
  /^$/ { flush(); next }
  /^[ \t]/ { if (field == "dep") names($0); else if (field == "prov") provides[pkg] = provides[pkg] " " $0; next }
  {
    field = ""
    if ($1 == "Package:") { pkg = $2 }
    else if ($1 == "Status:") { installed = ($4 == "installed" || $4 == "half-configured" || $4 == "unpacked" || $4 == "triggers-awaited" || $4 == "triggers-pending") }
    else if ($1 == "Depends:" || $1 == "Pre-Depends:" || $1 == "Recommends:" || $1 == "Suggests:") { field = "dep"; line = $0; sub(/^[^:]*:/, "", line); names(line) }
    else if ($1 == "Provides:") { field = "prov"; line = $0; sub(/^[^:]*:/, "", line); gsub(/\([^)]*\)/, "", line); gsub(/,/, " ", line); provides[pkg] = provides[pkg] " " line }
  }
  END {
    flush()
    n = split(libs, start, " ")
    for (i = 1; i <= n; i++) if (start[i] in all) { reached[start[i]] = 1; lib[start[i]] = 1 }
    changed = 1
    while (changed) {
      changed = 0
      for (p in reached) { m = split(provides[p], v, " "); for (j = 1; j <= m; j++) wanted[v[j]] = 1 }
      for (p in all) {
        if (p in reached) continue
        m = split(deps[p], d, " ")
        for (j = 1; j <= m; j++) if (d[j] in wanted) { reached[p] = 1; changed = 1; break }
      }
    }
    for (p in reached) if (!(p in lib)) print p
  }
' "$TREE/var/lib/dpkg/status" 2>/dev/null | sort > "$WORK/dependents"

# --- changelogs: the libraries' whole, the dependents' newest entries (deb-changelog(5)) --------
copy_docs() {  # PKG whole|newest
  doc=/usr/share/doc/$1
  name=$1
  if [ -h "$doc" ]; then
    target=$(cd "$doc" 2>/dev/null && pwd -P) || return 0
    case "$target" in /usr/share/doc/*/*|/usr/share/doc/) return 0 ;; /usr/share/doc/*) ;; *) return 0 ;; esac
    name=${target##*/}
    [ -e "$TREE/usr/share/doc/$1" ] || [ -h "$TREE/usr/share/doc/$1" ] || ln -s "$name" "$TREE/usr/share/doc/$1"
    doc=$target
  fi
  [ -d "$doc" ] || return 0
  mkdir -p "$TREE/usr/share/doc/$name"
  for f in "$doc"/changelog*; do
    [ -f "$f" ] || continue
    out="$TREE/usr/share/doc/$name/${f##*/}"
    [ -e "$out" ] && continue
    if [ "$2" = whole ]; then
      cat "$f" > "$out"
    else
      case "$f" in
        */changelog.Debian.gz|*/changelog.Debian.*.gz)
          [ -h "$f" ] && continue
          gzip -dc "$f" 2>/dev/null | awk -v keep="$DEPENDENT_CHANGELOG_ENTRIES" \
            '/^[^ \t].*\(.*\).*;/ { if (++n > keep) exit } { print }' | gzip -9c > "$out" ;;
      esac
    fi
  done
}
for lib in $LIBS; do copy_docs "${lib%%:*}" whole; done
while read -r dep; do copy_docs "$dep" newest; done < "$WORK/dependents"
captured changelogs
captured "dependent-changelogs-newest-$DEPENDENT_CHANGELOG_ENTRIES-entries"

# --- command outputs ----------------------------------------------------------------------------
if COLUMNS=300 dpkg -l > "$META/dpkg-l.txt" 2>/dev/null; then captured dpkg-l; else rm -f "$META/dpkg-l.txt"; missing "dpkg -l" "dpkg -l failed or dpkg is not installed"; fi
if openssl version -a > "$META/openssl-version.txt" 2>/dev/null; then captured openssl-version; else rm -f "$META/openssl-version.txt"; missing "openssl version -a" "openssl is not installed"; fi

# --- ELF sonames of the libraries and dependents (no symbols: that needs the Python collector) --
elf_files() {
  for p in $LIBS $(cat "$WORK/dependents"); do
    l=$(list_of "${p%%:*}") || continue
    while IFS= read -r f; do
      case "$f" in
        */bin/*|*/sbin/*|*/libexec/*|*.so|*.so.*) ;;
        /usr/lib/*|/lib/*) case "${f##*/}" in *.*) continue ;; esac ;;
        *) continue ;;
      esac
      [ -f "$f" ] && [ ! -h "$f" ] && printf '%s\n' "$f"
    done < "$l"
  done
}
if command -v readelf > /dev/null 2>&1; then
  elf_files | while IFS= read -r f; do echo "F $f"; readelf -d "$f" 2>/dev/null; done | awk '
    /^F / { print; next }
    /\(NEEDED\)/ { match($0, /\[.*\]/); print "N " substr($0, RSTART + 1, RLENGTH - 2) }
    /\(SONAME\)/ { match($0, /\[.*\]/); print "S " substr($0, RSTART + 1, RLENGTH - 2) }' > "$META/elf-needed.txt"
  captured elf-sonames
elif command -v objdump > /dev/null 2>&1; then
  elf_files | while IFS= read -r f; do echo "F $f"; objdump -p "$f" 2>/dev/null; done | awk '
    /^F / { print; next }
    $1 == "NEEDED" { print "N " $2 }
    $1 == "SONAME" { print "S " $2 }' > "$META/elf-needed.txt"
  captured elf-sonames
else
  missing "ELF sonames" "neither readelf nor objdump is installed"
fi
missing "ELF symbols" "the shell collector records sonames only; roles come from package metadata"

# --- processes that map the library (proc(5)) -------------------------------------------------
NEEDLES="$WORK/needles"
: > "$NEEDLES"
for lib in $LIBS; do
  l=$(list_of "${lib%%:*}") || continue
  grep '\.so' "$l" | sed 's|.*/||' | grep '\.so\.' >> "$NEEDLES"
done
sort -u -o "$NEEDLES" "$NEEDLES"
P="$META/proc"
own_mnt=$(readlink /proc/$$/ns/mnt 2>/dev/null)
scanned=0
: > "$P/unreadable"
if [ -s "$NEEDLES" ]; then
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    [ "$pid" = "$$" ] && continue
    grep -n -F -f "$NEEDLES" "$dir/maps" > "$WORK/maps" 2>/dev/null
    status=$?
    if [ "$status" -gt 1 ]; then
      [ -d "$dir" ] && [ -r "$dir/stat" ] && \
        sed -n 's/^[0-9]* (\(.*\)) .*/'"$pid"' \1/p' "$dir/stat" >> "$P/unreadable" 2>/dev/null
      continue
    fi
    scanned=$((scanned + 1))
    [ "$status" = 0 ] || continue
    out="$P/$pid"
    mkdir -p "$out"
    cat "$dir/stat" > "$out/stat" 2>/dev/null || { rm -rf "$out"; continue; }
    cp "$WORK/maps" "$out/maps"
    ls -ldn "$dir" 2>/dev/null | awk '{ print $3 }' > "$out/uid"
    readlink "$dir/exe" > "$out/exe" 2>/dev/null || rm -f "$out/exe"
    cat "$dir/cgroup" > "$out/cgroup" 2>/dev/null || rm -f "$out/cgroup"
    same=0
    [ -n "$own_mnt" ] && [ "$(readlink "$dir/ns/mnt" 2>/dev/null)" = "$own_mnt" ] && same=1
    : > "$out/files"
    : > "$out/map_files"
    sed 's/^[0-9]*://' "$WORK/maps" | awk '{
        address = $1; path = $0
        sub(/^[^ \t]+[ \t]+[^ \t]+[ \t]+[^ \t]+[ \t]+[^ \t]+[ \t]+[^ \t]+[ \t]+/, "", path)
        if (path ~ / \(deleted\)$/ || path ~ /^\(deleted\)/ || path !~ /^\//) next
        if (!(path in seen)) { seen[path] = 1; print address " " path }
      }' | while read -r address path; do
      if [ "$same" = 1 ]; then seen_as=$path; else seen_as=$dir/root$path; fi
      if id=$(stat -L -c '%d %i %Y' "$seen_as" 2>/dev/null); then
        echo "$id $path" >> "$out/files"
      elif [ -e "$seen_as" ] || [ -h "$seen_as" ]; then
        echo "unreadable - - $path" >> "$out/files"
      else
        echo "missing - - $path" >> "$out/files"
      fi
      exact=$(stat -L -c '%d %i' "$dir/map_files/$address" 2>/dev/null) && echo "$address $exact" >> "$out/map_files"
    done
    if ls "$dir/fd" > /dev/null 2>&1; then
      for fd in "$dir"/fd/*; do readlink "$fd" 2>/dev/null; done | grep '^socket:\[' | sort > "$out/fd"
      if [ -s "$out/fd" ]; then
        mkdir -p "$out/net"
        for t in tcp tcp6 udp udp6; do
          [ -r "$dir/net/$t" ] && awk 'NR == 1 || $4 == "0A" || $4 == "07"' "$dir/net/$t" > "$out/net/$t" 2>/dev/null
        done
      fi
    fi
  done
  echo "$scanned" > "$P/scanned"
  awk '/^btime / { print $2 }' /proc/stat > "$P/btime" 2>/dev/null
  (getconf CLK_TCK 2>/dev/null || echo 100) > "$P/clk_tck"
  captured proc
else
  missing processes "no library shared objects known to look for"
fi
# --- server configurations and the certificates they name (redacted) ---------------------------
# What depgraph reads for keys (depgraph/runtime/keys.py), made safe to carry: in each file under
# the eight servers' configuration directories every line is blanked (line numbers kept) except
# the include lines and the directives that name certificate and key files; each file those
# directives name keeps its CERTIFICATE blocks, and every other PEM block (a private key) keeps
# only its BEGIN and END lines, so the reader still sees that the file holds a key. No secret
# leaves the host: no key, password or inline OpenVPN block.
CONFIG_DIRS="/etc/nginx /etc/apache2 /etc/postfix /etc/dovecot /etc/haproxy /etc/stunnel /etc/openvpn /etc/postgresql"
redact_config() {
  awk '
    { line = $0; low = tolower(line); sub(/^[ \t]+/, "", low) }
    low ~ /^<\/(cert|key|pkcs12|tls-auth|tls-crypt|secret|ca|extra-certs|dh)>/ { inline = 0; print line; next }
    inline { print ""; next }
    low ~ /^<(cert|key|pkcs12|tls-auth|tls-crypt|secret|ca|extra-certs|dh)>/ { inline = 1; print line; next }
    low ~ /^(include|includeoptional|!include|!include_try)[ \t]/ { print line; next }
    low ~ /^(ssl_certificate|ssl_certificate_key|ssl_trusted_certificate)[ \t]/ { print line; next }
    low ~ /^(sslcertificatefile|sslcertificatekeyfile|sslcertificatechainfile)[ \t]/ { print line; next }
    low ~ /^smtpd?_tls_(ec|dc)?(cert_file|key_file|chain_files)[ \t=]/ { print line; next }
    low ~ /^(ssl_cert|ssl_key|ssl_server_cert_file|ssl_server_key_file|ssl_alt_cert|ssl_alt_key)[ \t=]/ { print line; next }
    low ~ /^(bind|server|default-server)[ \t]/ && low ~ /[ \t]crt(-list)?[ \t]/ { print line; next }
    low ~ /^(cert|key|pkcs12|extra-certs)[ \t=]/ { print line; next }
    low ~ /^(ssl|ssl_cert_file|ssl_key_file)[ \t=]/ { print line; next }
    { print "" }
  ' "$1"
}
redact_pem() {
  awk '
    /^-----BEGIN (TRUSTED )?CERTIFICATE-----/ { cert = 1 }
    cert { print; if ($0 ~ /^-----END /) cert = 0; next }
    /^-----BEGIN / { print; other = 1; next }
    other && /^-----END / { print; other = 0; next }
  ' "$1"
}
copy_named() {  # a file (or each file of a directory) a directive names, redacted
  for named in "$1" "$1"/*; do
    [ "$named" = "$1/*" ] && continue
    [ -f "$named" ] || continue
    [ -e "$TREE$named" ] && continue
    mkdir -p "$TREE${named%/*}"
    if ! head -c 4096 "$named" > /dev/null 2>&1; then
      missing "key material $named" "cannot be read"
    elif grep -q -e '-----BEGIN ' "$named" 2>/dev/null; then
      redact_pem "$named" > "$TREE$named"
    elif command -v openssl > /dev/null 2>&1 && openssl x509 -inform DER -in "$named" -outform PEM > "$TREE$named" 2>/dev/null; then
      :  # a DER certificate, carried as PEM
    else
      : > "$TREE$named"  # not PEM, not a certificate: a key in another encoding; nothing copied
    fi
  done
}
configs=0
for dir in $CONFIG_DIRS; do
  [ -d "$dir" ] || continue
  find "$dir" \( -type f -o -type l \) 2>/dev/null | while IFS= read -r f; do
    [ -f "$f" ] || continue
    mkdir -p "$TREE${f%/*}"
    redact_config "$f" > "$TREE$f" 2>/dev/null || missing "configuration $f" "cannot be read"
  done
  configs=1
done
if [ "$configs" = 1 ]; then
  # the absolute paths the kept directives name (relative ones: the data directory's, not looked up)
  for dir in $CONFIG_DIRS; do
    [ -d "$TREE$dir" ] && find "$TREE$dir" -type f -exec cat {} + 2>/dev/null
  done | awk '
    { low = tolower($0); sub(/^[ \t]+/, "", low) }
    low ~ /^(include|includeoptional|!include|!include_try)[ \t]/ { next }
    { gsub(/[;,"'"'"'<=]/, " "); for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }
  ' | sort -u | while IFS= read -r named; do
    copy_named "$named"
  done
  captured server-configs-redacted
else
  missing "server configurations" "none of $CONFIG_DIRS is on this host"
fi

if [ "$WITH_LISTS" = 1 ]; then
  mkdir -p "$TREE/var/lib/apt/lists"
  for f in /var/lib/apt/lists/*_Packages*; do
    [ -f "$f" ] && cat "$f" > "$TREE/var/lib/apt/lists/${f##*/}"
  done
  captured apt-lists
fi

# --- the manifest (JSON; strings escaped for \ and ") -----------------------------------------
json() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g' | tr '\t\n' '  ')"; }
{
  echo "{"
  echo " \"format\": \"depgraph-snapshot/1\","
  echo " \"host\": $(json "$HOST"),"
  echo " \"time\": \"$(date -u +%Y-%m-%dT%H:%M:%S+00:00)\","
  echo " \"kernel\": $(json "$(uname -srvm)"),"
  echo " \"collector\": \"collect.sh (POSIX shell)\","
  printf ' "libraries": ['
  sep=""
  for lib in $LIBS; do printf '%s%s' "$sep" "$(json "$lib")"; sep=", "; done
  echo "],"
  printf ' "captured": ['
  sep=""
  while IFS= read -r what; do printf '%s%s' "$sep" "$(json "$what")"; sep=", "; done < "$WORK/captured"
  echo "],"
  printf ' "missing": ['
  sep=""
  while IFS='	' read -r what why; do
    printf '%s{"what": %s, "why": %s}' "$sep" "$(json "$what")" "$(json "$why")"; sep=", "
  done < "$WORK/missing"
  echo "]"
  echo "}"
} > "$META/manifest.json"

if tar -C "$TREE" -czf "$OUT.partial" . 2>"$WORK/tar.err"; then
  mv "$OUT.partial" "$OUT"
  echo "collect.sh: wrote $OUT" >&2
else
  rm -f "$OUT.partial"
  echo "collect.sh: tar failed: $(head -n 1 "$WORK/tar.err")" >&2
  exit 2
fi
