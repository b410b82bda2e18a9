"""The sandbox's Textual terminal UI (it calls the sandbox runtime; the core never imports it)."""
