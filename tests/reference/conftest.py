from __future__ import annotations

import pandas as pd
import pytest

from refdata import HERE


@pytest.fixture(scope="session")
def hs() -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / "HolzingerSwineford1939.csv")


@pytest.fixture(scope="session")
def hs_items(hs) -> pd.DataFrame:
    return hs[[f"x{i}" for i in range(1, 10)]]
