#!/usr/bin/env python3
"""Copy a labelled set keeping only each article's headline and first body line (the lede), to
see how the monitor does on excerpts like the ones news alerts and feeds carry.

    python3 tools/monitor-model/excerpts.py data/eval/monitor-heldout /tmp/excerpts
    cargo run --release -p chipwatch-monitor --example evaluate -- /tmp/excerpts/labels.toml
"""

import shutil
import sys
from pathlib import Path


def main():
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    if dst.exists():
        sys.exit(f"{dst}: exists; give a new directory")
    shutil.copytree(src, dst)
    n = 0
    for f in dst.glob("*/*.txt"):
        lines = f.read_text(encoding="utf-8").split("\n")
        filled = [i for i, line in enumerate(lines) if line.strip()]
        keep = lines[: filled[1] + 1] if len(filled) > 1 else lines
        f.write_text("\n".join(keep) + "\n", encoding="utf-8")
        n += 1
    print(f"{n} articles cut to headline and lede in {dst}")


if __name__ == "__main__":
    main()
