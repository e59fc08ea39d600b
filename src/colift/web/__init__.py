"""The web app: server-rendered pages (Jinja2 + htmx) over the services, zh-CN first."""
