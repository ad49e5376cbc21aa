package resources

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
)

// PolicyRule grants access to one resource type, as Medplum's
// AccessPolicy.resource entries do.
type PolicyRule struct {
	ResourceType string   `json:"resourceType"`
	ReadOnly     bool     `json:"readonly,omitempty"`
	Criteria     string   `json:"criteria,omitempty"`
	HiddenFields []string `json:"hiddenFields,omitempty"`
}

// PolicyRules is stored as a JSON array in one text column.
type PolicyRules []PolicyRule

// Value implements driver.Valuer.
func (r PolicyRules) Value() (driver.Value, error) {
	if r == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]PolicyRule(r))
	return string(b), err
}

// Scan implements sql.Scanner.
func (r *PolicyRules) Scan(src any) error {
	switch s := src.(type) {
	case nil:
		*r = nil
		return nil
	case string:
		return json.Unmarshal([]byte(s), (*[]PolicyRule)(r))
	case []byte:
		return json.Unmarshal(s, (*[]PolicyRule)(r))
	}
	return errors.New("PolicyRules: unsupported column type")
}
