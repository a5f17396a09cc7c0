"""AccountView.net (Visma AccountView Online / AccountView REST API v3).

Only research and a simulator live here for now: ``simulator.AccountViewSimulator`` imitates the
``/api/v3`` endpoints (token, Companies, business objects, the generic ``AccountViewData`` read
with its ``Filter*`` parameters and ``lastKey``/``PageNumber`` paging, and the row/field-list POST
format) for debtors (AR1), articles with stock (AK1), sales orders (SO1) and journal pages (DJ2),
with per-user rights. The connector class is written elsewhere. Facts, their sources and what is
verified or inferred: ``docs/connectors/accountview.md``.
"""
