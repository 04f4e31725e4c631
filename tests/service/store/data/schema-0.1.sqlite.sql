-- The schema hashbank 0.1 created with Base.metadata.create_all (service/models.py at dfebd79), for sqlite.

CREATE TABLE audit_events (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	actor VARCHAR(64) NOT NULL, 
	action VARCHAR(64) NOT NULL, 
	subject_type VARCHAR(32) NOT NULL, 
	subject_id VARCHAR(64) NOT NULL, 
	detail JSON NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_audit_events_at ON audit_events (at);

CREATE INDEX ix_audit_subject ON audit_events (subject_type, subject_id);

CREATE TABLE cases (
	id INTEGER NOT NULL, 
	public_id VARCHAR(32) NOT NULL, 
	key_hash VARCHAR(64) NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	withdrawn_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (public_id)
);

CREATE TABLE counters (
	name VARCHAR(32) NOT NULL, 
	value BIGINT NOT NULL, 
	PRIMARY KEY (name)
);

CREATE TABLE platforms (
	id INTEGER NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);

CREATE TABLE signals (
	id INTEGER NOT NULL, 
	algorithm VARCHAR(16) NOT NULL, 
	value BLOB NOT NULL, 
	quality INTEGER, 
	state VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	disputes_cleared_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (algorithm, value)
);

CREATE INDEX ix_signals_state ON signals (state);

CREATE TABLE api_keys (
	id INTEGER NOT NULL, 
	platform_id INTEGER NOT NULL, 
	key_id VARCHAR(32) NOT NULL, 
	key_hash VARCHAR(64) NOT NULL, 
	scopes VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	revoked_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(platform_id) REFERENCES platforms (id), 
	UNIQUE (key_id), 
	UNIQUE (key_hash)
);

CREATE INDEX ix_api_keys_platform_id ON api_keys (platform_id);

CREATE TABLE case_signals (
	case_id INTEGER NOT NULL, 
	signal_id INTEGER NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	added_at DATETIME NOT NULL, 
	withdrawn_at DATETIME, 
	image INTEGER, 
	PRIMARY KEY (case_id, signal_id), 
	FOREIGN KEY(case_id) REFERENCES cases (id), 
	FOREIGN KEY(signal_id) REFERENCES signals (id)
);

CREATE INDEX ix_case_signals_signal_id ON case_signals (signal_id);

CREATE TABLE changes (
	seq INTEGER NOT NULL, 
	signal_id INTEGER NOT NULL, 
	op VARCHAR(8) NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (seq), 
	FOREIGN KEY(signal_id) REFERENCES signals (id)
);

CREATE INDEX ix_changes_signal_id ON changes (signal_id);

CREATE TABLE matches (
	id INTEGER NOT NULL, 
	public_id VARCHAR(32) NOT NULL, 
	platform_id INTEGER NOT NULL, 
	signal_id INTEGER NOT NULL, 
	algorithm VARCHAR(16) NOT NULL, 
	distance INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (public_id), 
	FOREIGN KEY(platform_id) REFERENCES platforms (id), 
	FOREIGN KEY(signal_id) REFERENCES signals (id)
);

CREATE INDEX ix_matches_platform_id ON matches (platform_id);

CREATE INDEX ix_matches_signal_id ON matches (signal_id);

CREATE TABLE feedback (
	id INTEGER NOT NULL, 
	match_id INTEGER NOT NULL, 
	platform_id INTEGER NOT NULL, 
	outcome VARCHAR(20) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(match_id) REFERENCES matches (id), 
	FOREIGN KEY(platform_id) REFERENCES platforms (id)
);

CREATE INDEX ix_feedback_match_id ON feedback (match_id);
