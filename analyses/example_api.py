"""The example study through the Python API: read the same survey from three formats,
screen it, score it, and compare dimension means with their importance ratings.

Run:  python analyses/example_api.py
"""

from __future__ import annotations

import govsurvey as gs


def main() -> None:
    inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    files = gs.datasets.example_files()

    xlsx = gs.read_responses(files["xlsx"], inst)   # Wenjuanxing, option text
    sav = gs.read_responses(files["sav"], inst)     # SPSS with value labels
    items = [q.id for q in inst.questions]
    same = xlsx[items].equals(sav[items].astype(xlsx[items].dtypes.to_dict()))
    print(f"xlsx and sav give the same item matrix: {same}")

    result = gs.screen(xlsx, inst)
    print(result)
    print(result.summary)

    scores = gs.score(result.clean, inst)
    importance = result.clean[list(inst.importance_items.values())].mean()
    for dim, item in inst.importance_items.items():
        print(f"{inst.constructs[dim].label['zh']:<12} performance {scores[dim].mean():.2f}  importance {importance[item]:.2f}")


if __name__ == "__main__":
    main()
