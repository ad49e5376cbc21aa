package testdb

import (
	"bytes"
	"enclave/models/kit"
	"fmt"
	"testing"

	"gorm.io/gorm"
)

// Tables lists every table of the test database (goose's own included).
func Tables(t testing.TB, db *gorm.DB) []string {
	t.Helper()
	q := "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
	if kit.DialectOf(db) == kit.Postgres {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name"
	}
	var names []string
	if err := db.Raw(q).Scan(&names).Error; err != nil {
		t.Fatalf("list tables: %v", err)
	}
	if len(names) == 0 {
		t.Fatal("no tables found")
	}
	return names
}

// RowsContaining scans every column of every row of every table, as text and
// as raw bytes, and returns "table.column" for each cell that contains
// needle. Tests use it to prove a value never reaches the database.
func RowsContaining(t testing.TB, db *gorm.DB, needle []byte) []string {
	t.Helper()
	var hits []string
	for _, table := range Tables(t, db) {
		rows, err := db.Raw(fmt.Sprintf("SELECT * FROM %q", table)).Rows()
		if err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			cells := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range cells {
				ptrs[i] = &cells[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				t.Fatalf("scan %s: %v", table, err)
			}
			for i, v := range cells {
				var b []byte
				switch v := v.(type) {
				case []byte:
					b = v
				case string:
					b = []byte(v)
				case nil:
					continue
				default:
					b = fmt.Append(nil, v)
				}
				if bytes.Contains(b, needle) {
					hits = append(hits, table+"."+cols[i])
				}
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
	}
	return hits
}
