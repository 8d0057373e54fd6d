"""The run store: one SQLAlchemy Core implementation for SQLite and PostgreSQL."""
