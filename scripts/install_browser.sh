#!/usr/bin/env bash
# Installs the headless browser the dashboard's end-to-end test drives (Debian `chromium`).
# Only acts when chromium is missing and we are root with apt-get available; otherwise it says why
# and exits 0, and the browser test skips with that reason. Never downloads browsers via Playwright.
set -uo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install_browser: chromium missing and not root; the dashboard browser test will skip" >&2
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser: chromium missing and no apt-get; the dashboard browser test will skip" >&2
    exit 0
fi
if ! (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium); then
    echo "install_browser: apt-get install chromium failed; the dashboard browser test will skip" >&2
fi
exit 0
