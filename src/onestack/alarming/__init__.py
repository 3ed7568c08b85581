"""Alarming: the Alarming API v2 (Aodh), its evaluator and notifiers.

Alarms watch the Metric API's aggregates (``gnocchi_*`` rules, and ``composite``
rules of them); the evaluator moves them between ``ok``, ``alarm`` and
``insufficient data`` and calls their actions (``log://``, ``http(s)://``,
``trust+http(s)://`` with a Keystone trust).
"""
