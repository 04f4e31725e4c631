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

# The browser tests (tests/browser) drive Debian's chromium through Playwright
# (Playwright's own browser download is not used). Install it when missing.
ensure_chromium() {
    local browser="${HASHBANK_CHROMIUM:-/usr/bin/chromium}"
    [ -x "$browser" ] && return 0
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            echo "the browser tests need Chromium at $browser: install it as root" \
                "(apt-get install chromium) or set HASHBANK_CHROMIUM" >&2
            return 1
        fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "the browser tests need Chromium at $browser and there is no apt-get here:" \
            "install Chromium and set HASHBANK_CHROMIUM to its path" >&2
        return 1
    fi
    echo "== installing Debian's chromium for the browser tests"
    local install=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
    if ! "${install[@]}" >/dev/null 2>&1; then
        # A fresh machine may have no package lists yet.
        "${sudo[@]}" apt-get update -qq >/dev/null && "${install[@]}" >/dev/null || {
            echo "could not install chromium with apt-get (see: ${install[*]})" >&2
            return 1
        }
    fi
    [ -x "$browser" ] || { echo "chromium installed, but $browser is still missing" >&2; return 1; }
}

# The suite also runs on PostgreSQL (tests/databases.py starts its own throw-away
# server with initdb). Install Debian's package when no initdb can be found.
ensure_postgres() {
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && return 0
    command -v initdb >/dev/null 2>&1 && return 0
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 && sudo=(sudo) || {
            echo "the PostgreSQL run needs Debian's postgresql package: install it as root" >&2
            return 1
        }
    fi
    echo "== installing Debian's postgresql for the PostgreSQL test run"
    local install=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql)
    if ! "${install[@]}" >/dev/null 2>&1; then
        "${sudo[@]}" apt-get update -qq >/dev/null && "${install[@]}" >/dev/null || {
            echo "could not install postgresql with apt-get (see: ${install[*]})" >&2
            return 1
        }
    fi
}
