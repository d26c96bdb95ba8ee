"""TaskFile.celery_task_id: the Celery task that wrote the file (a repeated run replaces it).

Revision ID: 0002_task_file_celery_task_id
Revises: 0001_initial
Create Date: 2026-11-23 13:18:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002_task_file_celery_task_id'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('TaskFile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('celery_task_id', sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table('TaskFile', schema=None) as batch_op:
        batch_op.drop_column('celery_task_id')
