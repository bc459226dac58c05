"""Every rule and state change lives here. Views call these; nothing else writes."""


class DomainError(Exception):
    """A rule refused the change. ``field`` names the form field to show it beside."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
