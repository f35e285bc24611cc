"""Cross-cutting hardening (issue 14): the real client address behind trusted proxies, the guard that
turns input-shaped errors into 400, and bounds that keep numbers inside their database columns."""
