"""Celery tasks for meeting preparation. Thin: load by id, call the service, which records progress."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def build_briefing_packet(packet_id: int) -> None:
    """Build a meeting's briefing packet PDF (and e-mail it when asked); safe to run twice."""
    services.packet_build(packet_id=packet_id)


@shared_task
def sweep_stuck_packets() -> list[int]:
    """Beat: re-queue briefing packets queued or building beyond BRIEFING_PACKET_STUCK_MINUTES; safe to run twice."""
    return services.packet_requeue_stuck()
