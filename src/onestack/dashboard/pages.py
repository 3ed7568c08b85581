"""The two server-rendered pages: the login form and the application shell.

Everything a user typed or a service returned is escaped here; the session's
public facts go to the shell as a JSON data block with ``<`` escaped, so no
name can close the block and run as a script.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from onestack import __version__

_MODULES = (
    "main.js",
    "api.js",
    "ui.js",
    "policy.js",
    "pages/overview.js",
    "pages/instances.js",
    "pages/common.js",
)


def _head(title: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>{escape(title)}</title>"
        f'<link rel="stylesheet" href="/static/app.css?v={__version__}">'
        '<link rel="icon" href="/static/icon.svg" type="image/svg+xml">'
    )


def login_page(
    csrf: str,
    *,
    error: str | None = None,
    notice: str | None = None,
    domain: str = "Default",
    user: str = "",
) -> str:
    message = ""
    if error:
        message = f'<p class="alert error" role="alert">{escape(error)}</p>'
    elif notice:
        message = f'<p class="alert" role="status">{escape(notice)}</p>'
    token = f'<input type="hidden" name="csrf_token" value="{escape(csrf)}">'
    return (
        _head("Log in - onestack")
        + '</head><body class="login"><main class="login-box">'
        + '<h1><img src="/static/icon.svg" alt="" width="32" height="32"> onestack</h1>'
        + message
        + '<form method="post" action="/login" class="stack" id="password-login">'
        + token
        + '<input type="hidden" name="method" value="password">'
        + '<label for="domain">Domain</label>'
        + f'<input id="domain" name="domain" value="{escape(domain)}" autocomplete="off" required>'
        + '<label for="username">User name</label>'
        + f'<input id="username" name="username" value="{escape(user)}" '
        + 'autocomplete="username" required autofocus>'
        + '<label for="password">Password</label>'
        + '<input id="password" name="password" type="password" '
        + 'autocomplete="current-password" required>'
        + '<label for="project">Project <span class="hint">(optional)</span></label>'
        + '<input id="project" name="project" autocomplete="off">'
        + '<button type="submit" class="primary">Log in</button></form>'
        + "<details><summary>Log in with an application credential</summary>"
        + '<form method="post" action="/login" class="stack" id="appcred-login">'
        + token
        + '<input type="hidden" name="method" value="application_credential">'
        + '<label for="credential_id">Application credential ID</label>'
        + '<input id="credential_id" name="credential_id" autocomplete="off" required>'
        + '<label for="secret">Secret</label>'
        + '<input id="secret" name="secret" type="password" autocomplete="off" required>'
        + '<button type="submit">Log in</button></form></details>'
        + "</main></body></html>"
    )


def _json_block(data: Any) -> str:
    text = json.dumps(data, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def shell_page(session: dict[str, Any], csrf: str) -> str:
    preload = "".join(f'<link rel="modulepreload" href="/static/js/{name}">' for name in _MODULES)
    return (
        _head("onestack")
        + preload
        + f'<script type="application/json" id="session">{_json_block(session)}</script>'
        + f'<meta name="csrf-token" content="{escape(csrf)}">'
        + '<script type="module" src="/static/js/main.js"></script>'
        + "</head><body>"
        + '<a class="skip" href="#main">Skip to content</a>'
        + '<header class="top"><a class="brand" href="#/overview">'
        + '<img src="/static/icon.svg" alt="" width="24" height="24"> onestack</a>'
        + '<div class="top-right">'
        + '<label for="project-switch" class="sr-only">Project</label>'
        + '<select id="project-switch"></select>'
        + '<button type="button" id="theme-toggle" title="Theme">Theme: system</button>'
        + '<span id="whoami"></span>'
        + '<form method="post" action="/logout" class="inline">'
        + f'<input type="hidden" name="csrf_token" value="{escape(csrf)}">'
        + '<button type="submit" id="logout">Log out</button></form></div></header>'
        + '<div class="layout"><nav id="nav" aria-label="Main"></nav>'
        + '<main id="main" tabindex="-1"><p class="loading">Loading…</p></main></div>'
        + '<div id="toasts" role="status" aria-live="polite"></div>'
        + "</body></html>"
    )
