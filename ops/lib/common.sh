# shellcheck shell=bash
# Helpers shared by the ops/ scripts: step lines, Debian packages, and running a child that receives our signals.

# ops_step TEXT…: one line per step, on stderr so that a command's own output stays clean.
ops_step() {
    printf '==> %s\n' "$*" >&2
}

ops_die() {
    printf 'ops/%s: %s\n' "${0##*/}" "$*" >&2
    exit 1
}

# ops_apt_install PACKAGE…: installs Debian/Ubuntu packages when we are root; fails with a clear message otherwise.
ops_apt_install() {
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        printf 'missing: %s (install it, e.g. apt-get install -y %s)\n' "$*" "$*" >&2
        return 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# ops_ensure_python_yaml: python3 with PyYAML (ops/check-compose.py, pg_free_port). Installs them when missing and root.
ops_ensure_python_yaml() {
    if command -v python3 >/dev/null 2>&1 && python3 -c 'import yaml' 2>/dev/null; then return 0; fi
    ops_step "installing python3 and PyYAML (Debian's python3-yaml)"
    ops_apt_install python3 python3-yaml
}

# ops_ensure_aiosmtpd: the python3 on PATH with aiosmtpd, the real SMTP server the e-mail channel's tests talk to
# (ops/lib/smtp_sink.py). Installed from PyPI with that python3's own pip when missing.
ops_ensure_aiosmtpd() {
    if python3 -c 'import aiosmtpd' 2>/dev/null; then return 0; fi
    ops_step "installing aiosmtpd for $(command -v python3) (pip)"
    if ! python3 -m pip --version >/dev/null 2>&1; then ops_apt_install python3-pip; fi
    # Debian's own python3 refuses pip installs into it unless told (PEP 668); pyenv's and a venv's do not.
    python3 -m pip install --quiet aiosmtpd 2>/dev/null ||
        python3 -m pip install --quiet --break-system-packages aiosmtpd
}

# ops_ensure_chromium: Debian's headless-capable Chromium, which the report tests render the HTML report in
# (Tests/MDRReportsTests/ChromiumRenderingTests.swift). Installed when missing and root.
ops_ensure_chromium() {
    if command -v chromium >/dev/null 2>&1; then return 0; fi
    ops_step "installing chromium (Debian's, for the HTML report tests)"
    ops_apt_install chromium
}

# ops_run_forwarding COMMAND [ARG…]: runs COMMAND in a process group of its own and waits for it. SIGINT and
# SIGTERM sent to this script are passed on to that whole group (a second one sends SIGKILL), so a service
# shuts down gracefully and test runners with their child processes stop, before our EXIT trap cleans up.
# Returns COMMAND's exit status; OPS_CHILD_SIGNAL names the signal we passed on, if any.
# (Without job control, bash would start the child with SIGINT ignored; `set -m` gives it its own group instead.)
OPS_CHILD_PID=
OPS_CHILD_SIGNAL=
ops_run_forwarding() {
    local status=0 saved_int saved_term
    saved_int=$(trap -p INT)
    saved_term=$(trap -p TERM)
    OPS_CHILD_SIGNAL=
    set -m
    "$@" </dev/null &
    OPS_CHILD_PID=$!
    set +m
    trap '_ops_forward INT' INT
    trap '_ops_forward TERM' TERM
    # `wait` returns early when a trapped signal arrives: wait until the child has really ended, then ask once more
    # for its own exit status (bash keeps it after reaping the child).
    while kill -0 "$OPS_CHILD_PID" 2>/dev/null; do
        wait "$OPS_CHILD_PID" || true
    done
    wait "$OPS_CHILD_PID" || status=$?
    trap - INT TERM
    [ -n "$saved_int" ] && eval "$saved_int"
    [ -n "$saved_term" ] && eval "$saved_term"
    OPS_CHILD_PID=
    return "$status"
}

_ops_forward() {
    local signal=$1
    [ -n "$OPS_CHILD_SIGNAL" ] && signal=KILL
    OPS_CHILD_SIGNAL=$1
    printf '==> ops/%s: passing SIG%s on to process %s\n' "${0##*/}" "$signal" "$OPS_CHILD_PID" >&2
    kill -s "$signal" -- "-$OPS_CHILD_PID" 2>/dev/null || kill -s "$signal" "$OPS_CHILD_PID" 2>/dev/null || true
}
