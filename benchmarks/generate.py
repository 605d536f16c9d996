"""A seeded national-scale dataset in the data contract, as a CSV folder and one XLSX.

    python benchmarks/generate.py [--scale 1.0] [--out benchmarks/data]

Scale 1.0: 50,000 clients, about 75,000 proceedings, 250,000 goal reviews, 160,000 GBO ratings,
400,000 domain-scale readings, 80,000 partner-access rows, 50,000 feedback responses, the
subject children of each set of proceedings (data contract 1.1; one to four sets a mother), plus
pregnancies and contraception. Rows are drawn by evaltool.synthetic and thinned (seeded) to the
targets, so every table stays valid.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from evaltool.synthetic import generate, write_csv_folder, write_xlsx

CLIENTS = 50_000
TARGETS = {
    "proceedings": 75_000,
    "goals": 250_000,
    "gbo": 160_000,
    "star": 400_000,
    "partner_access": 80_000,
    "feedback": 50_000,
}


def national(scale: float = 1.0, seed: int = 95_000) -> dict[str, pd.DataFrame]:
    tables = generate(
        int(CLIENTS * scale), seed=seed, star_interval=29, partner_rate=2.6, feedback_rate=1.85
    )
    rng = np.random.default_rng(seed)
    for name, target in TARGETS.items():
        want = int(target * scale)
        frame = tables[name]
        if len(frame) > want:
            keep = np.sort(rng.choice(len(frame), want, replace=False))
            tables[name] = frame.iloc[keep].reset_index(drop=True)
    return tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--no-xlsx", action="store_true")
    args = parser.parse_args()
    t0 = time.perf_counter()
    tables = national(args.scale)
    name = f"national-{args.scale:g}"
    write_csv_folder(tables, args.out / name)
    if not args.no_xlsx:
        write_xlsx(tables, args.out / f"{name}.xlsx")
    rows = ", ".join(f"{k} {len(v):,}" for k, v in tables.items())
    print(f"wrote {args.out / name} in {time.perf_counter() - t0:.0f} s: {rows}")


if __name__ == "__main__":
    main()
