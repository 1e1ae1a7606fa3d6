"""The base of every error LayerScope explains to its user in one line."""


class LayerScopeError(Exception):
    """An error whose message names the problem and its fix; shown without a traceback."""
