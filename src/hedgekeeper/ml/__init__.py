"""The ML gate's learning side: do not pay to hedge noise.

- ``features.py``: market features computed causally, event by event (realized vol
  at several horizons, vol of vol, returns and autocorrelation, order-flow imbalance,
  VPIN with bulk volume classification, spread and depth, jumps, funding), and the
  position's features against its band;
- ``labels.py``: whether waiting ``h`` steps would have beaten hedging now (cost plus
  a risk penalty), or whether the deviation went away, from the path after;
- ``model.py``: a LightGBM classifier with scikit-learn-calibrated probabilities,
  saved with its features, training period, metrics and library versions;
- ``training.py``: samples from hedging runs, walk-forward purged and embargoed validation;
- ``selection.py``: the label horizon and defer probability chosen on validation blocks
  inside the training period; ``choice.py``: that choice, saved with the model and read
  back to judge the gate at it;
- ``simulation.py``: a fast short-option hedging task on simulated or recorded events;
- ``evaluation.py``, ``pipeline.py``, ``cli.py``: frontiers, the ``[ml]`` file and the
  ``hedgekeeper train`` / ``hedgekeeper evaluate`` commands.

The gate itself is a policy: ``policy/ml_gate.py``.
"""
