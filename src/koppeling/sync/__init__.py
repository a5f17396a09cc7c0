"""The sync engine: connections, links, the ledger that makes every push happen once, and runs."""
