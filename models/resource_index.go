package models

import (
	"strings"

	"enclave/models/fhir"

	"gorm.io/gorm"
)

// indexBatch bounds the rows of one multi-row INSERT, far below the bind
// parameter limits of SQLite and PostgreSQL.
const indexBatch = 200

// indexTables lists the search index tables; every row carries project_id,
// resource_type and resource_id.
var indexTables = []string{"resource_strings", "resource_tokens", "resource_dates", "resource_references"}

// writeIndex replaces the search index rows of one resource with the values
// fhir.ExtractIndex finds in res (res nil clears them). _id is not indexed:
// searches use the id column.
func (t Tenant) writeIndex(tx *gorm.DB, resourceType, id string, res map[string]any) error {
	for _, table := range indexTables {
		if err := tx.Exec(`DELETE FROM `+table+` WHERE project_id = ? AND resource_type = ? AND resource_id = ?`,
			t.projectID, resourceType, id).Error; err != nil {
			return err
		}
	}
	if res == nil {
		return nil
	}
	rows := map[string][][]any{}
	for _, v := range fhir.ExtractIndex(res) {
		if v.Param == "_id" {
			continue
		}
		key := []any{t.projectID, resourceType, id, v.Param}
		switch v.Type {
		case fhir.TypeString:
			rows["resource_strings"] = append(rows["resource_strings"], append(key, v.Text, v.Raw))
		case fhir.TypeToken:
			rows["resource_tokens"] = append(rows["resource_tokens"], append(key, v.System, v.Code, v.Text))
		case fhir.TypeDate:
			rows["resource_dates"] = append(rows["resource_dates"], append(key, v.Start.UnixMicro(), v.End.UnixMicro()))
		case fhir.TypeReference:
			rows["resource_references"] = append(rows["resource_references"], append(key, v.RefType, v.RefID, v.Ref))
		}
	}
	columns := map[string]string{
		"resource_strings":    "value, raw",
		"resource_tokens":     "system, code, text",
		"resource_dates":      "start_us, end_us",
		"resource_references": "ref_type, ref_id, ref",
	}
	for _, table := range indexTables {
		all := rows[table]
		for len(all) > 0 {
			n := min(len(all), indexBatch)
			if err := insertRows(tx, table, "project_id, resource_type, resource_id, param, "+columns[table], all[:n]); err != nil {
				return err
			}
			all = all[n:]
		}
	}
	return nil
}

func insertRows(tx *gorm.DB, table, columns string, rows [][]any) error {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(rows[0])), ", ") + ")"
	var sql strings.Builder
	sql.WriteString("INSERT INTO " + table + " (" + columns + ") VALUES ")
	args := make([]any, 0, len(rows)*len(rows[0]))
	for i, r := range rows {
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString(one)
		args = append(args, r...)
	}
	return tx.Exec(sql.String(), args...).Error
}
