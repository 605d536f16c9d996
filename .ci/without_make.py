"""CI: the README's set-up without make, run as written in a fresh copy of the project
(``python`` is this interpreter, as it is on a machine where only Python is installed)."""

import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("**Without `make`**")
    block = re.search(r"```sh\n(.*?)```", text[start:], re.S)
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def main() -> None:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    with tempfile.TemporaryDirectory() as tmp:
        for name in listed:
            target = Path(tmp) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if (ROOT / name).is_file():
                shutil.copy2(ROOT / name, target)
        for command in commands():
            args = shlex.split(command)
            if args[0] == "python":
                args[0] = sys.executable
            print("+", command, flush=True)
            subprocess.run(args, cwd=tmp, check=True)
        assert (Path(tmp) / "out" / "example-return-2025-Q4.xlsx").is_file()


if __name__ == "__main__":
    main()
