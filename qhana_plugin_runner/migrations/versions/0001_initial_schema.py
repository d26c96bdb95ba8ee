"""Initial schema: tasks, steps, files, links, subscriptions, virtual plugins, plugin state.

Revision ID: 0001_initial
Revises: (none)
Create Date: 2026-11-23 09:53:43.273935

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001_initial'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('CeleryTaskFailure',
    sa.Column('celery_task_id', sa.String(length=255), nullable=False),
    sa.Column('task_name', sa.String(length=500), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('traceback', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('celery_task_id', name=op.f('pk_CeleryTaskFailure'))
    )
    op.create_table('DataBlob',
    sa.Column('plugin_id', sa.String(length=550), nullable=False),
    sa.Column('key', sa.String(length=500), nullable=False),
    sa.Column('value', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('plugin_id', 'key', name=op.f('pk_DataBlob'))
    )
    op.create_table('PluginState',
    sa.Column('plugin_id', sa.String(length=550), nullable=False),
    sa.Column('key', sa.String(length=500), nullable=False),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('plugin_id', 'key', name=op.f('pk_PluginState'))
    )
    op.create_table('ProcessingTask',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_name', sa.String(length=500), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('parameters', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('multi_step', sa.Boolean(), nullable=False),
    sa.Column('current_step', sa.Integer(), nullable=False),
    sa.Column('progress_value', sa.Float(), nullable=True),
    sa.Column('progress_start', sa.Float(), nullable=False),
    sa.Column('progress_target', sa.Float(), nullable=False),
    sa.Column('progress_unit', sa.String(length=100), nullable=False),
    sa.Column('task_status', sa.String(length=100), nullable=True),
    sa.Column('task_log', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ProcessingTask'))
    )
    op.create_table('VirtualPlugin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.String(length=550), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('version', sa.String(length=50), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('tags', sa.Text(), nullable=False),
    sa.Column('href', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_VirtualPlugin')),
    sa.UniqueConstraint('href', name=op.f('uq_VirtualPlugin_href'))
    )
    with op.batch_alter_table('VirtualPlugin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_VirtualPlugin_parent_id'), ['parent_id'], unique=False)

    op.create_table('Step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.String(length=500), nullable=True),
    sa.Column('href', sa.String(length=500), nullable=False),
    sa.Column('ui_href', sa.String(length=500), nullable=True),
    sa.Column('cleared', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['id'], ['ProcessingTask.id'], name=op.f('fk_Step_id_ProcessingTask')),
    sa.PrimaryKeyConstraint('id', 'number', name=op.f('pk_Step'))
    )
    op.create_table('TaskFile',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('security_tag', sa.String(length=64), nullable=False),
    sa.Column('storage_provider', sa.String(length=64), nullable=False),
    sa.Column('file_name', sa.String(length=500), nullable=False),
    sa.Column('file_storage_data', sa.Text(), nullable=False),
    sa.Column('file_type', sa.String(length=255), nullable=True),
    sa.Column('mimetype', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['ProcessingTask.id'], name=op.f('fk_TaskFile_task_id_ProcessingTask')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_TaskFile'))
    )
    with op.batch_alter_table('TaskFile', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_TaskFile_file_name'), ['file_name'], unique=False)

    op.create_table('TaskLink',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('href', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['ProcessingTask.id'], name=op.f('fk_TaskLink_task_id_ProcessingTask')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_TaskLink'))
    )
    op.create_table('TaskUpdateSubscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('webhook_href', sa.String(length=500), nullable=False),
    sa.Column('task_href', sa.String(length=500), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['task_id'], ['ProcessingTask.id'], name=op.f('fk_TaskUpdateSubscription_task_id_ProcessingTask')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_TaskUpdateSubscription'))
    )



def downgrade():

    op.drop_table('TaskUpdateSubscription')
    op.drop_table('TaskLink')
    with op.batch_alter_table('TaskFile', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_TaskFile_file_name'))

    op.drop_table('TaskFile')
    op.drop_table('Step')
    with op.batch_alter_table('VirtualPlugin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_VirtualPlugin_parent_id'))

    op.drop_table('VirtualPlugin')
    op.drop_table('ProcessingTask')
    op.drop_table('PluginState')
    op.drop_table('DataBlob')
    op.drop_table('CeleryTaskFailure')

