"""Customer-lifetime-value models on NumPy/SciPy: BG/NBD, Pareto/NBD, Gamma-Gamma, discounted CLV.

Buy-till-you-die models fit per-customer summaries (x repeat purchases, t_x recency, T age) built by
:func:`ml.clv.rfm.rfm_summary`; all classes follow the scikit-learn convention (hyper-parameters in
``__init__``, ``fit`` returns self, fitted attributes end in ``_``).  Reproduces the published CDNOW
results (see ``tests/test_clv_cdnow.py``).
"""

from .bgnbd import BetaGeoModel
from .gammagamma import GammaGammaModel
from .paretonbd import ParetoNBDModel
from .rfm import calibration_holdout_summary, rfm_summary
from .value import CLVResult, customer_lifetime_value

__all__ = [
    "BetaGeoModel",
    "ParetoNBDModel",
    "GammaGammaModel",
    "CLVResult",
    "customer_lifetime_value",
    "rfm_summary",
    "calibration_holdout_summary",
]
