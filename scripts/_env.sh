# Shared by scripts/test and scripts/serve: find a Python >= 3.11, create .venv
# and install the project into it (again only when pyproject.toml changed).
find_python() {
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "hashbank needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
    return 1
}

ensure_venv() {
    local extras="$1" stamp=".venv/.installed"
    local want
    want="$extras $(cksum pyproject.toml | cut -d' ' -f1)"
    if [ ! -x .venv/bin/python ]; then
        "$(find_python)" -m venv .venv
    fi
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo "== installing hashbank$extras into .venv (first run takes a minute)"
        .venv/bin/python -m pip install --quiet --upgrade pip
        .venv/bin/python -m pip install --quiet -e "$extras"
        echo "$want" >"$stamp"
    fi
}

# Install one of Debian's packages for the tests, as root or through sudo.
# $1: the package; $2: what needs it (for the messages).
apt_install() {
    local package="$1" purpose="$2" sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            echo "$purpose need Debian's $package: install it as root (apt-get install $package)" >&2
            return 1
        fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "$purpose need $package and there is no apt-get here: install it by hand" >&2
        return 1
    fi
    echo "== installing Debian's $package for $purpose"
    local install=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package")
    if ! "${install[@]}" >/dev/null 2>&1; then
        # A fresh machine may have no package lists yet.
        "${sudo[@]}" apt-get update -qq >/dev/null && "${install[@]}" >/dev/null || {
            echo "could not install $package with apt-get (see: ${install[*]})" >&2
            return 1
        }
    fi
}

# The browser tests (tests/browser) drive Debian's chromium through Playwright
# (Playwright's own browser download is not used). Install it when missing;
# HASHBANK_CHROMIUM names another browser binary.
ensure_chromium() {
    local browser="${HASHBANK_CHROMIUM:-/usr/bin/chromium}"
    [ -x "$browser" ] && return 0
    apt_install chromium "the browser tests" || return 1
    [ -x "$browser" ] || { echo "chromium installed, but $browser is still missing" >&2; return 1; }
}

# The suite also runs on PostgreSQL (tests/databases.py starts its own throw-away
# server with initdb). Install Debian's package when no initdb can be found.
ensure_postgres() {
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && return 0
    command -v initdb >/dev/null 2>&1 && return 0
    apt_install postgresql "the PostgreSQL test run"
}
