-- Patient/$everything (models/resources/everything.go) finds a patient's
-- compartment by the references that point at the patient, whatever the
-- referring type and parameter: resource_references_target leads with
-- those, so it cannot serve that look-up.

-- +goose Up
CREATE INDEX resource_references_referrer ON resource_references (project_id, ref_type, ref_id);

-- +goose Down
DROP INDEX resource_references_referrer;
