#!/usr/bin/env bash
# The bundle's start script (bin/start_server.sh in cppworker-<version>-linux-x86_64.tar.gz, made by
# launch/package.sh): runs the bundle's own worker in the foreground, with nothing to install or
# build. The plugin is named by BACKEND (default hello_world) and looked up in the bundle's
# lib/cppworker/plugins/; PLUGIN_PATH (or --plugin) may name a plugin .so anywhere instead, inside
# the bundle or outside it (one built against the bundle's CMake package, say). The port is
# WORKER_PORT (default 3000). Every cppworker flag may follow, e.g.
# `bin/start_server.sh --log-level debug`. The launch_<server>.sh scripts beside it start a model
# server first, then this.
#
# The worker runs supervised, as launch/start_server.sh runs it (WORKER_SUPERVISE=false runs it as
# one plain process): this script's pid becomes the master's, which restarts a worker that crashed,
# and on SIGHUP (bin/reload.sh, beside this script) replaces it with one that loads the plugin .so
# afresh, without failing a request.
#
# The bundle needs glibc 2.34 or later. On an older C library (or one that is not glibc) this
# script says so and exits 1 before it starts anything, rather than leave the dynamic loader to
# fail on a shared object it cannot load. It reads the version from `getconf GNU_LIBC_VERSION`,
# or else from `ldd --version`; when neither tells, it starts the worker anyway.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

needed_glibc=2.34
qualifying="Debian 12, Ubuntu 22.04, RHEL 9 (Rocky, Alma), Fedora 35, Amazon Linux 2023 or later"
too_old="Debian 11, Ubuntu 20.04, RHEL 8 and Amazon Linux 2 are too old"

# What the C library says of itself: "glibc 2.36", "musl 1.2.4", or nothing.
c_library() {
  local version
  version=$(getconf GNU_LIBC_VERSION 2>/dev/null || true)
  if [[ $version =~ ^glibc\ ([0-9]+\.[0-9]+) ]]; then
    echo "glibc ${BASH_REMATCH[1]}"
    return
  fi
  version=$(ldd --version 2>&1 || true)
  if [[ $version =~ musl ]]; then
    if [[ $version =~ Version\ ([0-9][0-9.]*) ]]; then echo "musl ${BASH_REMATCH[1]}"; else echo musl; fi
  elif [[ ${version%%$'\n'*} =~ (GLIBC|GNU\ libc).*\ ([0-9]+\.[0-9]+) ]]; then
    echo "glibc ${BASH_REMATCH[2]}"
  fi
}

library=$(c_library)
case $library in
  glibc\ *)
    found=${library#glibc }
    if [ "$(printf '%s\n%s\n' "$needed_glibc" "$found" | sort -V | head -n 1)" != "$needed_glibc" ]; then
      echo "start_server.sh: cannot run: this bundle needs glibc $needed_glibc or later, and this system has glibc $found." >&2
      echo "start_server.sh: it runs on $qualifying; $too_old. Use an image based on one of the former, or build cppworker from source on this system (README, \"Quick start\")." >&2
      exit 1
    fi
    ;;
  "")
    echo "start_server.sh: cannot tell which C library this system has (neither getconf GNU_LIBC_VERSION nor ldd --version says); the bundle needs glibc $needed_glibc or later: starting it anyway" >&2
    ;;
  *)
    echo "start_server.sh: cannot run: this bundle needs glibc $needed_glibc or later, and this system's C library is $library." >&2
    echo "start_server.sh: it runs on $qualifying. Use an image based on one of those, or build cppworker from source on a glibc system (README, \"Quick start\")." >&2
    exit 1
    ;;
esac

# OpenSSL is linked in from Debian, so it looks for CA certificates (for an https REPORT_ADDR) in
# Debian's /usr/lib/ssl. Where that is missing (Red Hat, Alpine and similar), point it at the
# system's bundle unless SSL_CERT_FILE or SSL_CERT_DIR already say where they are.
if [ -z "${SSL_CERT_FILE:-}" ] && [ -z "${SSL_CERT_DIR:-}" ] && [ ! -e /usr/lib/ssl/certs/ca-certificates.crt ] &&
  [ ! -e /usr/lib/ssl/cert.pem ]; then
  for candidate in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem \
    /etc/ssl/ca-bundle.pem; do
    if [ -f "$candidate" ]; then
      export SSL_CERT_FILE=$candidate
      break
    fi
  done
fi

export WORKER_SUPERVISE=${WORKER_SUPERVISE:-true}
exec "$here/cppworker" "$@"
