"""Indexes on the task id of TaskFile, TaskLink and TaskUpdateSubscription.

Every ``GET /tasks/<id>/`` reads a task's outputs and links by task id, and every status change
its subscriptions: without an index each read scanned the whole table (with a million finished
tasks on PostgreSQL, p50 141 ms instead of 4 ms; ``benchmarks/scale.py tasks``).

Revision ID: 0003_task_child_indexes
Revises: 0002_task_file_celery_task_id
Create Date: 2026-11-24 10:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003_task_child_indexes'
down_revision = '0002_task_file_celery_task_id'
branch_labels = None
depends_on = None

TABLES = ('TaskFile', 'TaskLink', 'TaskUpdateSubscription')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f'ix_{table}_task_id'), ['task_id'], unique=False)


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_task_id'))
