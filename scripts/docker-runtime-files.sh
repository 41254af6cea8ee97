#!/bin/sh
# Gathers into DEST (the whole root filesystem of the action's image) what patcher needs at run
# time besides itself: git with its builtin command names and its HTTPS remote helper, /bin/sh
# (git runs local transports and hooks through it), the shared libraries `ldd` lists for those,
# the CA bundle, a passwd/group naming root, and the copyright notice of every Debian package a
# file comes from. Runs in a Debian stage with git and
# ca-certificates installed.  Usage: docker-runtime-files.sh DEST [BINARY...], where each BINARY
# (patcher) is copied too, with the libraries it links.
set -eu
dest=$1
shift
core=/usr/lib/git-core
mkdir -p "$dest/usr/bin" "$dest$core" "$dest/etc/ssl/certs" "$dest/tmp" \
  "$dest/usr/share/git-core/templates"
chmod 1777 "$dest/tmp"

# Merged /usr: /bin, /lib, /lib64 are links into /usr, as in Debian, so the loader paths the
# binaries were linked with resolve.
for dir in bin sbin lib lib64; do
  if [ -L "/$dir" ]; then ln -s "$(readlink "/$dir")" "$dest/$dir"; fi
done

# Copies FILE to the same path under DEST, its directory resolved and its name kept (a soname
# link becomes the file it names).
copy() {
  echo "$1" >>"$dest.files"
  target="$dest$(readlink -f "$(dirname "$1")")/$(basename "$1")"
  mkdir -p "$(dirname "$target")"
  cp -L "$1" "$target"
}

binaries="/usr/bin/git $core/git-remote-http /usr/bin/dash $*"
for file in $binaries; do copy "$file"; done
ln -s dash "$dest/usr/bin/sh"
ln -s ../../bin/git "$dest$core/git"
# Builtins git starts by their dashed name (git-upload-pack, git-receive-pack…) and the other
# names of the HTTP helper (git-remote-https…): the same links Debian ships.
for link in "$core"/*; do
  [ -L "$link" ] || continue
  case "$(readlink "$link")" in
    git | git-remote-http) ln -s "$(readlink "$link")" "$dest$link" ;;
  esac
done

# shellcheck disable=SC2086 # $binaries: paths without spaces, one argument each
for lib in $(ldd $binaries | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $1 !~ /:$/ { print $1 }' | sort -u); do
  copy "$lib"
done

cp /etc/ssl/certs/ca-certificates.crt "$dest/etc/ssl/certs/"
echo /etc/ssl/certs/ca-certificates.crt >>"$dest.files"

# dpkg knows files by the paths packages ship them at, /bin/dash rather than /usr/bin/dash.
while read -r file; do
  dpkg -S "$file" 2>/dev/null || dpkg -S "${file#/usr}"
done <"$dest.files" | cut -d: -f1 | sort -u >"$dest.packages"
while read -r package; do
  mkdir -p "$dest/usr/share/doc/$package"
  cp "/usr/share/doc/$package/copyright" "$dest/usr/share/doc/$package/"
done <"$dest.packages"
rm "$dest.files" "$dest.packages"
echo 'root:x:0:0:root:/root:/bin/sh' >"$dest/etc/passwd"
echo 'root:x:0:' >"$dest/etc/group"
