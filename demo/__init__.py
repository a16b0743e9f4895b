"""The demo: reference data of the programme RegioTwin and an idempotent seed loader.

:mod:`demo.seed` loads the programme, its regions and pairs (facts, from ``demo/data``)
and an illustrative year of the twinning Kreis Steinfurt – Landkreis München.
"""
