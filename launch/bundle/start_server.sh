#!/usr/bin/env bash
# The bundle's start script (bin/start_server.sh in cppworker-<version>-linux-x86_64.tar.gz, made by
# launch/package.sh): runs the bundle's own worker in the foreground, with nothing to install or
# build. The plugin is PLUGIN_PATH (the path of any plugin .so, your own included) or else named by
# BACKEND (default hello_world) and looked up in the bundle's lib/cppworker/plugins/; the port is
# WORKER_PORT (default 3000). Every cppworker flag may follow, e.g. `bin/start_server.sh --log-level
# debug` or `--plugin /path/to/myplugin.so`. The launch_<server>.sh scripts beside it start a model
# server first, then this.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

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

exec "$here/cppworker" "$@"
