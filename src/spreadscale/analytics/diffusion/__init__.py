"""Monte Carlo spread simulation under the three logics (mechanistic, ecological, social).

Pure numpy/scipy/networkx. See ``docs/simulation.md`` for the models, the scenario schema and
the step convention (step 0 is the initial state).
"""

from spreadscale.analytics.diffusion.calibration import (
    BassFit,
    abc_rejection,
    bass_cdf,
    fit_bass,
    make_simulator,
)
from spreadscale.analytics.diffusion.engine import Model, compile_model, run_model, simulate
from spreadscale.analytics.diffusion.futures import (
    Comparison,
    SeedRanking,
    compare_futures,
    rank_seed_sites,
)
from spreadscale.analytics.diffusion.network import (
    SiteNetwork,
    from_networkx,
    layered_network,
    read_network_csv,
)
from spreadscale.analytics.diffusion.results import SimulationResult
from spreadscale.analytics.diffusion.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    preset_names,
)

__all__ = [
    "BassFit",
    "Comparison",
    "Model",
    "Scenario",
    "ScenarioError",
    "SeedRanking",
    "SimulationResult",
    "SiteNetwork",
    "abc_rejection",
    "bass_cdf",
    "compare_futures",
    "compile_model",
    "fit_bass",
    "from_networkx",
    "layered_network",
    "load_scenario",
    "make_simulator",
    "preset_names",
    "rank_seed_sites",
    "read_network_csv",
    "run_model",
    "simulate",
]
