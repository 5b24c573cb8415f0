"""Stage 1 — instruments: declarative, bilingual questionnaires."""

from govsurvey.instrument.loader import load_instrument
from govsurvey.instrument.model import Construct, Instrument, Item, Scale

__all__ = ["load_instrument", "Instrument", "Item", "Construct", "Scale"]
