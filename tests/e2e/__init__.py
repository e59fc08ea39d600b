"""End-to-end tests in headless Chromium (marker: e2e)."""
