"""Where a hash-only signing job is (documents/jobs.py)."""

from __future__ import annotations

import enum


class JobStatus(enum.Enum):
    """Where a hash-only job is; the value is the Vietnamese label."""

    PREPARING = "Đang chuẩn bị"
    READY = "Chờ ký trên thiết bị"
    SIGNED = "Đã ký, đang hoàn tất"
    DONE = "Hoàn tất"
    FAILED = "Lỗi"
    EXPIRED = "Hết hạn"
    CANCELLED = "Đã hủy"
