"""A limit reached inside a service (not a view's throttle): the API answers 429 with Retry-After,
the portal a 429 page (prm.security.guard)."""


class RateLimited(Exception):
    def __init__(self, message: str = "Too many requests; try again later.", wait: int | None = None):
        super().__init__(message)
        self.message, self.wait = message, wait
