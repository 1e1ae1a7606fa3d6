"""LayerScope: how a network's picture of its data changes, layer by layer and epoch by epoch.

The package is a flat set of focused modules (``datasets``, ``model``, ``train``, ``capture``,
``tables``, ``projections``, ``metrics``, ``plots``, ``report``). This file re-exports nothing
on purpose: importing a module must not drag in torch, so jobs after ``capture`` start fast.
"""

__version__ = "0.1.0"
