"""Django's SQLite backend, with koppeling's tenancy triggers kept out of the way of schema changes.

``DATABASES["default"]["ENGINE"] = "koppeling.web.ops.sqlite"`` (the embedded default). Everything
is Django's own, except that a schema editor lifts the triggers (``web.ops.dbguards``) when it
starts and puts them back when it finishes: SQLite table rebuilds fail while a trigger names the
table being rebuilt.
"""
