"""The PAdES baseline levels (ETSI EN 319 142-1) Kyso signs at."""

from __future__ import annotations

import enum


class PadesLevel(enum.Enum):
    """The PAdES baseline level a signature is made at."""

    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"

    @property
    def embeds_validation_info(self) -> bool:
        return self in (PadesLevel.B_LT, PadesLevel.B_LTA)
