"""The articles first-sync benchmark runs once at a tiny size, so it cannot rot (the real run is 50,000)."""

from __future__ import annotations

import json

import pytest

from benchmarks import article_first_sync

pytestmark = pytest.mark.django_db(transaction=True)  # push threads read what the runs committed

FIELDS = (
    "wall_s",
    "virtual_hours",
    "av_calls_per_article",
    "ea_calls_per_article",
    "articles_per_wall_s",
    "articles_per_virtual_s",
    "within_rate_limits",
    "resumed",
    "peak_rss_mib",
    "progress_reports",
)


def test_first_sync_creates_every_article_once_and_resumes_after_two_crashes():
    # given 700 articles in AccountView, none in eAccounting (more than one minute of eAccounting's
    # 600 requests at two calls an article, so the sync takes several runs for the crashes to hit)
    # when the flow syncs them on the virtual clock, two of its runs dying on the way
    result = article_first_sync.measure(700)
    # then both runs died, and afterwards every article is in eAccounting once, none missing
    assert [c["checkpoint"] for c in result["crashes"]] == ["after_target_accepted", "after_attempt_logged"]
    assert result["exactly_once"], result
    assert (result["duplicates"], result["missing"]) == (0, 0)
    assert result["in_eaccounting"] == result["created_calls"] == 700
    assert result["records"] == {"pushed": 700}
    # and eAccounting's 600 a minute was never exceeded
    assert result["ea_429"] == 0 and result["within_rate_limits"]
    assert result["ea_peak_per_minute_endpoint"] <= article_first_sync.EA_LIMIT
    # and the runtime reported progress: a backlog with an ETA while articles waited
    assert result["progress_with_backlog_and_eta"] >= 1
    # and the last line is one JSON object with the figures the issue asks for
    line, summary = article_first_sync.summarise(result, peak_kib=100_000)
    assert "700 articles" in line
    parsed = json.loads(json.dumps(summary, default=str))
    assert parsed["name"] == "article_first_sync" and parsed["ok"] is True
    assert all(name in parsed for name in FIELDS)
    assert parsed["resumed"] is True
