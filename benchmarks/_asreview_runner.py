"""Run one ASReview LAB simulation (default model ELAS u4) and print its screening order.

Executed with the interpreter of a separate virtual environment that has `asreview`
installed (see bench_screening.py); reads a JSON job from stdin:
{"csv": path with title,abstract,included columns, "priors": [row indices], "seed": int}
and prints {"order": [row indices in the order labelled, priors first], "seconds": wall
time, "cpu_seconds": CPU time of the simulation}.
"""

import json
import sys
import time

import numpy as np
import pandas as pd
from asreview.learner import ActiveLearningCycle
from asreview.models.models import get_ai_config
from asreview.models.queriers import TopDown
from asreview.models.stoppers import IsFittable, LastRelevant
from asreview.simulation.simulate import Simulate

job = json.load(sys.stdin)
np.random.seed(job["seed"])
df = pd.read_csv(job["csv"], keep_default_na=False, dtype={"title": str, "abstract": str})
start = time.perf_counter()
cpu_start = time.process_time()
cycles = [
    ActiveLearningCycle(querier=TopDown(), stopper=IsFittable()),
    ActiveLearningCycle.from_meta(get_ai_config("elas_u4")["value"]),
]
sim = Simulate(df[["title", "abstract"]], df["included"].to_numpy(), cycles,
               stopper=LastRelevant(), print_progress=False)
sim.label(job["priors"])
sim.review()
seconds = time.perf_counter() - start
cpu_seconds = time.process_time() - cpu_start
order = [int(i) for i in sim._results["record_id"].tolist()]
print(json.dumps({"order": order, "seconds": seconds, "cpu_seconds": cpu_seconds,
                  "model": "elas_u4"}))
