"""Synthetic world generator: a landing folder in the data contract plus its planted answers.

    from ml.synthetic import generate
    summary = generate(n_subscribers=10_000, seed=7, out_dir="data/landing")

A pure library (numpy, pandas, pyarrow): people drawn from overlapping behavioural personas receive
campaigns, open them at their own local hour, click, buy, browse and go quiet; everything up to
``as_of`` lands in ``out_dir/<entity>/``, the holdout period and the planted per-person parameters in
``out_dir/truth/``. See :func:`ml.synthetic.world.generate`.
"""

from .world import generate
from .personas import PERSONA_NAMES
from .truth import TRUTH_SUBSCRIBER_COLUMNS

__all__ = ["generate", "PERSONA_NAMES", "TRUTH_SUBSCRIBER_COLUMNS"]
