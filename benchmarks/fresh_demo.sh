#!/usr/bin/env bash
# Times `make demo` on a fresh clone (new venv, full install, demo run) and records it.
#   bash benchmarks/fresh_demo.sh    -> benchmarks/results/fresh_demo.json
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/discotok"
cd "$work/discotok"
start=$(date +%s.%N)
make demo > "$work/demo.log" 2>&1
end=$(date +%s.%N)
seconds=$(python3 -c "print(round($end - $start, 1))")
tail -n 16 "$work/demo.log"
python3 - "$seconds" "$work/demo.log" "$repo/benchmarks/results/fresh_demo.json" <<'PY'
import json, os, platform, subprocess, sys
seconds, log, out = float(sys.argv[1]), open(sys.argv[2]).read(), sys.argv[3]
commit = subprocess.run(["git", "-C", os.path.dirname(os.path.dirname(out)), "rev-parse", "HEAD"],
                        capture_output=True, text=True).stdout.strip()
json.dump({"make_demo_seconds": seconds, "target_seconds": 360, "target_met": seconds < 360,
           "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                       "python": platform.python_version()},
           "git_commit": commit, "output_tail": log.splitlines()[-16:]},
          open(out, "w"), indent=2)
print(f"make demo on a fresh clone: {seconds} s")
PY
