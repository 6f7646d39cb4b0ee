"""Market simulators: seeded, reproducible paths, books, quotes and oracle rounds.

Models (pure functions of their parameters and an explicit ``np.random.Generator``;
arrays of shape (path_count, step_count + 1)):

- ``gbm``: geometric Brownian motion, exact log-normal steps.
- ``heston``: Heston stochastic volatility, Andersen's QE scheme, martingale-corrected.
- ``merton``: Merton's jump-diffusion, compensated, exact steps.
- ``regimes``: a Markov chain between regimes, each a jump-diffusion of its own.
- ``scenarios``: a -X% crash day and a flash crash, overlays injected onto any path.
- ``market_path``: one path of any model with scenarios, on a ns time grid.

The market around the path:

- ``surface_dynamics``: an SSVI surface in forward log-moneyness that follows the
  instantaneous vol, skew steepening in stress.
- ``option_quotes``: bid and ask vols around the surface's mark.
- ``books``: L2 books whose spread widens and depth thins with vol.
- ``trades``: Poisson trade prints at the touch.
- ``funding``: perpetual funding every interval (eight hours by default).
- ``oracle``: Chainlink's deviation-threshold-plus-heartbeat rounds.

The run:

- ``config``: ``SimulationConfig``, the pydantic configuration of a run.
- ``runner``: ``simulate_events``, the configured run as one time-ordered stream of
  ``MarketEvent``; the same configuration and seed give the same events.

``_kernels`` holds the numba loops of the sequential recursions.
"""

from hedgekeeper.market.simulators.config import SimulationConfig
from hedgekeeper.market.simulators.runner import simulate_events, simulate_path

__all__ = ["SimulationConfig", "simulate_events", "simulate_path"]
