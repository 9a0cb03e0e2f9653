"""shadowfleet: evidence of sanctions evasion at sea from raw AIS.

Stages (one sub-package each, each importing only those upstream of it):
store, identity, places  ->  ingest, registry, sanctions  ->  tracks  ->  sim  ->  events  ->  cases
->  evaluate, report; `cli` sits on top and imports stages, never the reverse.
"""

__version__ = "0.1.0"
