"""The dashboard (Horizon's job): a web UI that is a client of the public APIs.

The server side is small: it logs users in against Keystone (password or
application credential), keeps the user's token in an HttpOnly, SameSite
cookie and nothing else, checks a CSRF token on every state-changing request,
and relays the browser's API calls to the catalog's endpoints with that token
through one origin (``/api/<service type>/<path>``).  Every page is a static ES
module that calls those APIs; policy is decided by the services themselves.
The dashboard never touches a database.
"""
