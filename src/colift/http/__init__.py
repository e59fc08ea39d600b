"""What the two faces of the app share: `colift.api` (JSON under /api/v1) and `colift.web`
(server-rendered pages) are siblings over this package and `colift.services`.

- `auth`: principals (bearer token or session cookie), sessions and CSRF
- `errors`: a domain error's HTTP status and the one error shape
- `limits`: bounds on every input (body size, JSON and query guard, id range, field types)
- `uploads`: one upload size limit and the way to read within it
- `quota`: whose per-account count a request spends
- `units`: the engines a request reads, and a unit's place by id

Nothing here imports `colift.api` or `colift.web` (tests/unit/test_layers.py).
"""
