"""One package per external system; each registers itself in ``registry``.

A connector never imports another connector; the engine only sees ``base`` interfaces.
"""
