"""Schedules: the weekly retrain (the full job) on Monday at 03:00 UTC."""

import dagster as dg

from orchestration.jobs import everything_job

weekly_retrain = dg.ScheduleDefinition(
    name="weekly_retrain", job=everything_job, cron_schedule="0 3 * * 1", execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Retrains the segmentation and scoring models on the latest data every Monday at 03:00 UTC; a new "
                "version becomes champion only if it passes its gates.")
