"""The life of a document: bodies, people, numbering, the register, the queue, the audit trail.

Empty for now: the issuance issue fills it. It may use ``certs``, ``tokens`` and
``signer``, never ``api``.
"""

__all__: list[str] = []
