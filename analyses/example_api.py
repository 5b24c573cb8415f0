"""The example study through the Python API: read the same survey from three formats,
screen it, score it, find where capacity falls short of its importance, and set the coded
interviews beside the numbers in a joint display.

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
    dims = list(inst.importance_items)
    gaps = gs.capacity_gaps(scores[dims], importance=gs.score_importance(result.clean, inst))
    print(gaps[["mean", "importance", "gap", "p", "quadrant"]].round(3))

    # Why? Interviews with community secretaries, grid workers, residents and volunteers.
    codes = gs.read_codes(files["qdpx"], codebook=files["codebook"])
    print(gs.intercoder_agreement(codes))
    display = gs.joint_display(gaps, codes)
    print(display[["gap", "qualitative", "convergence", "themes"]])
    print(gs.link_codes(result.clean[["site"]].join(scores), codes, level="site").loc["pooled"])


if __name__ == "__main__":
    main()
