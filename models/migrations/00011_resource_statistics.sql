-- PostgreSQL plans searches from table statistics. Fresh resource tables have
-- none, and until autovacuum first analyzes them searches can pick nested-loop
-- plans that take seconds. Analyze these tables after a few dozen changed rows
-- instead of PostgreSQL's default of 10% of the table plus 50.

-- +goose Up
-- +enclave postgres-only begin
ALTER TABLE resources SET (autovacuum_analyze_threshold = 50, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE resource_strings SET (autovacuum_analyze_threshold = 50, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE resource_tokens SET (autovacuum_analyze_threshold = 50, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE resource_dates SET (autovacuum_analyze_threshold = 50, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE resource_references SET (autovacuum_analyze_threshold = 50, autovacuum_analyze_scale_factor = 0.02);
-- +enclave postgres-only end

-- +goose Down
-- +enclave postgres-only begin
ALTER TABLE resources RESET (autovacuum_analyze_threshold, autovacuum_analyze_scale_factor);
ALTER TABLE resource_strings RESET (autovacuum_analyze_threshold, autovacuum_analyze_scale_factor);
ALTER TABLE resource_tokens RESET (autovacuum_analyze_threshold, autovacuum_analyze_scale_factor);
ALTER TABLE resource_dates RESET (autovacuum_analyze_threshold, autovacuum_analyze_scale_factor);
ALTER TABLE resource_references RESET (autovacuum_analyze_threshold, autovacuum_analyze_scale_factor);
-- +enclave postgres-only end
