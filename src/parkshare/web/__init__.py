"""Web pages. Until the driver, operator and city pages land, ``/`` is a plain status page."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from parkshare.deps import SessionDep
from parkshare.lots.service import list_lots

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def status_page(session: SessionDep) -> str:
    lots = list_lots(session, limit=1).total
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>parkshare 错时共享停车</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem">
<h1>parkshare · 错时共享停车</h1>
<p>运行中 / running — {escape(str(lots))} 个停车场 car parks in the registry.</p>
<ul>
<li><a href="/docs">API 文档 / API documentation</a></li>
<li><a href="/api/v1/lots">/api/v1/lots</a></li>
<li><a href="/api/v1/reports/targets?year=2022">/api/v1/reports/targets?year=2022</a></li>
</ul></body></html>"""
