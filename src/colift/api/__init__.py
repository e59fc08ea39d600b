"""The REST API under /api/v1: an adapter that calls `colift.services` and nothing below it.

It shares sessions, CSRF, principals, errors, limits and uploads with the web pages through
`colift.http`, asks `colift.services.access` who may do what, and never imports `colift.web`;
the app that mounts both faces is `colift.app.create_app`.
"""
