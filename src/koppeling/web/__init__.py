"""The web app: sign-in, links, failures with one-click fixes."""
