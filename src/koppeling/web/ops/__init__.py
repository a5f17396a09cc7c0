"""Operations: health and metrics endpoints, sign-in throttling, error-page scrubbing, structured
logs, scheduled clean-up and the production web server (issue 13).

Importing this package imports nothing of Django's models: the logging configuration names
classes in ``logs`` before the apps are loaded.
"""
