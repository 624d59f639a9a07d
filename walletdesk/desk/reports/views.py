"""The reports page (agents and admins): filters, figures, SVG charts and a CSV export."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from walletdesk.core.agents import agent_required
from walletdesk.desk.reports import charts, metrics
from walletdesk.tickets import access
from walletdesk.tickets.models import Team

MAX_DAYS = 366


def _date(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


def filters_from(request: HttpRequest) -> metrics.Filters:
    today = timezone.localdate()
    end = _date(request.GET.get("end"), today)
    start = _date(request.GET.get("start"), end - timedelta(days=29))
    if start > end:
        start, end = end, start
    start = max(start, end - timedelta(days=MAX_DAYS))
    team = teams_for(request.user).filter(slug=request.GET.get("team") or "").first()
    return metrics.Filters(start=start, end=end, team=team)


def teams_for(user: Any) -> QuerySet[Team]:
    return access.agent_teams(user).order_by("name")


def _hours(value: timedelta | None) -> str:
    return f"{value.total_seconds() / 3600:.1f}" if value is not None else ""


def _pct(value: float | None) -> str:
    return f"{value * 100:.0f}%" if value is not None else _("n/a")


def _cell(text: str) -> str:
    """A name for a CSV cell: one a spreadsheet would run as a formula (=, +, -, @) is quoted."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def rows(report: metrics.Report) -> list[tuple[str, str, str]]:
    """(section, name, value): the same figures the page shows, for the CSV."""
    out: list[tuple[str, str, str]] = [("total", "tickets", str(report.total))]
    out += [("channel", name, str(n)) for name, n in report.by_channel]
    out += [("category", name, str(n)) for name, n in report.by_category]
    out += [("day", d.isoformat(), str(n)) for d, n in report.daily]
    for key, d in (("first_reply_hours", report.first_reply), ("resolution_hours", report.resolution)):
        out += [(key, "count", str(d.count)), (key, "median", _hours(d.median)), (key, "p90", _hours(d.p90))]
    out.append(("sla", "first_reply_within", _pct(report.rate(report.first_reply_sla))))
    out.append(("sla", "resolution_within", _pct(report.rate(report.resolution_sla))))
    out += [("backlog", label, str(n)) for label, n in report.backlog]
    out.append(("csat", "good_rate", _pct(report.rate(report.csat))))
    out.append(("csat", "answered", str(report.csat[1])))
    out.append(("deflection", "rate", _pct(report.deflection)))
    eligible, offered, solved, declined = report.first_answers
    out += [
        ("first_answer", "eligible_tickets", str(eligible)),
        ("first_answer", "offered", str(offered)),
        ("first_answer", "solved_it", str(solved)),
        ("first_answer", "talk_to_a_person", str(declined)),
    ]
    for a in report.agents:
        name = _cell(a.name)
        out += [
            ("agent_assigned", name, str(a.assigned)),
            ("agent_solved", name, str(a.solved)),
            ("agent_first_reply_median_hours", name, _hours(a.first_reply.median)),
            ("agent_first_reply_p90_hours", name, _hours(a.first_reply.p90)),
            ("agent_resolution_median_hours", name, _hours(a.resolution.median)),
            ("agent_csat_answered", name, str(a.csat[1])),
            ("agent_csat_good_rate", name, _pct(a.csat_rate)),
            ("agent_sla_breaches", name, str(a.breaches)),
        ]
    return out


@agent_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    filters = filters_from(request)
    report = metrics.build(request.user, filters)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="walletdesk-report-{filters.start}-{filters.end}.csv"'
        )
        response.write("\ufeff")  # Excel opens UTF-8 (Chinese category names) only with a BOM
        writer = csv.writer(response)
        writer.writerow(["section", "name", "value"])
        writer.writerows(rows(report))
        return response
    title, day, tickets = _("Tickets per day"), _("Day"), _("Tickets")
    context = {
        "report": report,
        "filters": filters,
        "teams": teams_for(request.user),
        "first_reply_sla": _pct(report.rate(report.first_reply_sla)),
        "resolution_sla": _pct(report.rate(report.resolution_sla)),
        "csat_rate": _pct(report.rate(report.csat)),
        "deflection": _pct(report.deflection),
        "fa_coverage": _pct(
            report.first_answers[1] / report.first_answers[0] if report.first_answers[0] else None
        ),
        "fa_acceptance": _pct(
            report.first_answers[2] / report.first_answers[1] if report.first_answers[1] else None
        ),
        "times": [
            (
                _("First reply"),
                report.first_reply,
                _hours(report.first_reply.median),
                _hours(report.first_reply.p90),
            ),
            (
                _("Resolution"),
                report.resolution,
                _hours(report.resolution.median),
                _hours(report.resolution.p90),
            ),
        ],
        "channel_chart": charts.bar_chart(report.by_channel, title=_("Tickets by channel")),
        "category_chart": charts.bar_chart(report.by_category, title=_("Tickets by category")),
        "backlog_chart": charts.bar_chart(report.backlog, title=_("Open tickets by age")),
        # Two drawings of one line, the page shows the one for the screen's width.
        "daily_chart": charts.daily_chart(report.daily, title=title, x_label=day, y_label=tickets),
        "daily_chart_narrow": charts.daily_chart(
            report.daily,
            title=title,
            x_label=day,
            y_label=tickets,
            width=360,
            height=240,
            ticks=4,
            size="narrow",
        ),
        "agents": [
            {
                "figures": a,
                "first_reply": _hours(a.first_reply.median),
                "first_reply_p90": _hours(a.first_reply.p90),
                "resolution": _hours(a.resolution.median),
                "csat": _pct(a.csat_rate) if a.csat[1] else "",
            }
            for a in report.agents
        ],
        "query": request.GET.urlencode(),
    }
    return render(request, "reports/index.html", context)
