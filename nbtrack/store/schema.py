"""Tables of the run store and the schema version they carry.

Times are seconds since the epoch (float). Metric values that are NaN are stored as
NULL with ``is_nan`` set, because SQLite cannot store NaN and PostgreSQL sorts it above
every number.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    literal_column,
)

from ..systemtags import IDENTITY_TAG

# v2: metric steps and artifact sizes are 64-bit.
# v3: every write can be repeated (a metric point is unique; notes carry an id), see migrations/.
# v4: run_summary (the per-run summary row) and ix_tags_key.
# v5: the model registry (registered_models, model_versions, model_aliases, model_tags, model_version_tags).
# v6: who and where (user, host), and what sync needs: when a run last changed, edit times (last wins).
# v7: an index on the cell-identity tag (%%track's "don't train twice" look-up).
# v8: metric_blocks, the min/max of each metric over fixed step blocks (long histories plot fast).
SCHEMA_VERSION = 8

metadata = MetaData()

meta = Table(
    "nbtrack_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

experiments = Table(
    "experiments",
    metadata,
    Column("experiment_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(250), nullable=False, unique=True),
    Column("created_time", Float, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("experiment_id", Integer, ForeignKey("experiments.experiment_id"), nullable=False),
    Column("name", String(250), nullable=False),
    Column("status", String(16), nullable=False),
    Column("start_time", Float, nullable=False),
    Column("end_time", Float),
    Column("heartbeat_time", Float),
    Column("parent_run_id", String(32)),
    Column("notes", Text, nullable=False, default=""),
    Column("deleted", Boolean, nullable=False, default=False),
    # v6: who started the run and where (getpass user or NBTRACK_USER; the host name).
    Column("user_name", String(250)),
    Column("host_name", String(250)),
    # v6: the database clock at the last write touching the run (sync's cursor), and when the name and
    # the deleted flag were last set (an edit made later, anywhere, wins when runs are synced).
    Column("updated_time", Float),
    Column("name_time", Float),
    Column("deleted_time", Float),
    Index("ix_runs_experiment_start", "experiment_id", "start_time"),
    Index("ix_runs_status", "status"),
    Index("ix_runs_updated_time", "updated_time"),
)

params = Table(
    "params",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("kind", String(1), nullable=False),
    Column("value", Text, nullable=False),
    Column("value_num", Float),
    Index("ix_params_key", "key"),
)

metric_history = Table(
    "metrics",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("value", Float),
    Column("is_nan", Boolean, nullable=False, default=False),
    Column("timestamp", Float, nullable=False),
)
# A point is unique by run, key, step, time and value (as in MLflow, several values at one step
# are kept), so a write repeated after a connection lost at COMMIT stores nothing twice. NaN is
# stored as NULL with is_nan set; coalesce() makes two NaN points equal in the index too.
# Its prefix (run_id, key, step) serves the metric-history reads.
metric_point_index = Index(
    "ux_metrics_point", metric_history.c.run_id, metric_history.c.key, metric_history.c.step,
    metric_history.c.timestamp, metric_history.c.is_nan, func.coalesce(metric_history.c.value, literal_column("0")),
    unique=True,
)

latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("step", BigInteger, nullable=False),
    Column("value", Float),
    Column("is_nan", Boolean, nullable=False, default=False),
    Column("timestamp", Float, nullable=False),
    Index("ix_latest_metrics_key_value", "key", "value"),
)

# The smallest and the largest finite value of a run's metric within each block of steps
# (``step >> shift`` for each shift in ``blocks.SHIFTS``, ``level`` its index), each with the
# step and time of its point. Kept up to date by every write of points (merged, so a repeated
# write changes nothing); a history plot of a million points reads a few thousand of these rows
# instead of every point (nbtrack/store/blocks.py, nbtrack/dashboards/histories.py).
metric_blocks = Table(
    "metric_blocks",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("block", BigInteger, primary_key=True, autoincrement=False),
    Column("min_step", BigInteger, nullable=False),
    Column("min_value", Float, nullable=False),
    Column("min_timestamp", Float, nullable=False),
    Column("max_step", BigInteger, nullable=False),
    Column("max_value", Float, nullable=False),
    Column("max_timestamp", Float, nullable=False),
)

tags = Table(
    "tags",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_time", Float),  # v6: when the tag was set (the later of two values wins)
    Index("ix_tags_key", "key"),  # v4: key listings for "did you mean" (nbtrack/store/keys.py)
)

# v7: runs by the content hash of the cell that started them (nbtrack/notebook/reuse.py). Partial:
# only these values (64 hex digits) are indexed, so a long tag value elsewhere never meets an index
# row limit. A query uses it when it says ``key = 'nbtrack.identity'`` as a literal (not a parameter).
identity_index = Index("ix_tags_identity", tags.c.value, sqlite_where=literal_column(f"key = '{IDENTITY_TAG}'"),
                       postgresql_where=literal_column(f"key = '{IDENTITY_TAG}'"))

artifacts = Table(
    "artifacts",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(1000), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("created_time", Float, nullable=False),
    Index("ix_artifacts_sha256", "sha256"),
)

datasets = Table(
    "datasets",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(250), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("info", Text, nullable=False),
    Column("created_time", Float, nullable=False),
    Index("ix_datasets_fingerprint", "fingerprint"),
)

# The notes appended to a run (``runs.notes`` holds their text): a note is appended once per id.
run_notes = Table(
    "run_notes",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("note_id", String(32), primary_key=True),
    Column("text", Text),  # v6: the note itself (sync sends each note once); NULL for notes of v3
    Column("created_time", Float),
)

# JSON documents (environment, notebook snapshot info, history, ...) stored once per content.
documents = Table(
    "documents",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("body", Text, nullable=False),
)

run_documents = Table(
    "run_documents",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("sha256", String(64), ForeignKey("documents.sha256"), nullable=False),
)

# One row per run: its params, latest metrics and tags as one JSON text (nbtrack/store/summary.py),
# rewritten from the three tables above in the transaction of every write that changes them, so
# runs() reads one row per run instead of one per key.
run_summary = Table(
    "run_summary",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("body", Text, nullable=False),
)

# -- the model registry (nbtrack/registry) --------------------------------------------------------
# A version pins its artifact's content (sha256, kind, media type): it never changes, and it
# outlives its run (no foreign key to runs: gc may purge the run, the version keeps its blob).
# Aliases and version tags go with their version (ON DELETE CASCADE), so no alias can point
# at a version that is gone. ``last_version`` numbers versions: a deleted number is never reused.

registered_models = Table(
    "registered_models",
    metadata,
    Column("name", String(250), primary_key=True),
    Column("description", Text, nullable=False, default=""),
    Column("last_version", Integer, nullable=False, default=0),
    Column("created_time", Float, nullable=False),
    Column("updated_time", Float, nullable=False),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("name", String(250), ForeignKey("registered_models.name", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("run_id", String(32), nullable=False),
    Column("artifact_name", String(1000), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("created_time", Float, nullable=False),
    Index("ix_model_versions_run_id", "run_id"),
    Index("ix_model_versions_sha256", "sha256"),
)

model_aliases = Table(
    "model_aliases",
    metadata,
    Column("name", String(250), primary_key=True),
    Column("alias", String(250), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("updated_time", Float, nullable=False),
    ForeignKeyConstraint(["name", "version"], ["model_versions.name", "model_versions.version"],
                         ondelete="CASCADE"),
)

model_tags = Table(
    "model_tags",
    metadata,
    Column("name", String(250), ForeignKey("registered_models.name", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

model_version_tags = Table(
    "model_version_tags",
    metadata,
    Column("name", String(250), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    ForeignKeyConstraint(["name", "version"], ["model_versions.name", "model_versions.version"],
                         ondelete="CASCADE"),
)
