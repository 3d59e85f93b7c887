"""The demo commune (UBND xã Tiên Lữ): its officials and tokens, its seeding, its art
(seal, handwritten signatures) and sample drafts. Production wiring never imports it."""

__all__: list[str] = []
