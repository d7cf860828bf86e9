"""Copy the pinned front-end packages' built files from node_modules/ into static/vendor/.

The app serves these itself (no CDN at run time); package.json and package-lock.json pin them.
"""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = {
    "@xterm/xterm/lib/xterm.js": "xterm/xterm.js",
    "@xterm/xterm/lib/xterm.js.map": "xterm/xterm.js.map",
    "@xterm/xterm/css/xterm.css": "xterm/xterm.css",
    "@xterm/addon-fit/lib/addon-fit.js": "xterm/addon-fit.js",
    "@xterm/addon-fit/lib/addon-fit.js.map": "xterm/addon-fit.js.map",
    "asciinema-player/dist/bundle/asciinema-player.min.js": "asciinema-player/asciinema-player.min.js",
    "asciinema-player/dist/bundle/asciinema-player.css": "asciinema-player/asciinema-player.css",
}


def main() -> int:
    missing = []
    for src, dest in FILES.items():
        source = ROOT / "node_modules" / src
        target = ROOT / "static" / "vendor" / dest
        if not source.exists():
            missing.append(src)
            continue
        if (
            not target.exists()
            or target.stat().st_mtime < source.stat().st_mtime
            or target.stat().st_size != source.stat().st_size
        ):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    if missing:
        print("berth: missing front-end files (run npm ci): " + ", ".join(missing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
